"""Whether this event should ask this user now: trigger rules, sampling and the fatigue policy.

Pure: no Flask, no SQL. The caller passes the event, the site's triggers for the event's
name (active ones, any order), the site's surveys, the site's fatigue policy and a `Facts`
object that answers questions about the user and the surveys (traits, prompt history, quota
counts, transactions already asked about). The storage layer implements `Facts` with indexed
queries, asked lazily (a trigger whose conditions fail never loads the user's history);
`StaticFacts` holds plain data for tests and benchmarks.

The stages, their order and the arbitration between triggers are in docs/decisions.md.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, Sequence

from . import conditions as cond
from .durations import human
from .fatigue import FatiguePolicy, SurveyCounts, SurveyQuota, UserHistory, check_all
from .sampling import choose_variant, sampled_in

DAY = 86_400
DEFAULT_TTL = 7 * DAY

# How far each reason got through the per-trigger stages: when no trigger prompts, the one
# that got furthest explains the event (ties: the first tried, i.e. highest priority).
STAGE: dict[str, int] = {
    "source_not_allowed": 1, "stale_event": 2, "conditions_false": 3, "sampled_out": 4,
    "survey_paused": 5, "transaction_seen": 6,
    "prompt_open": 7, "user_cap": 7, "recontact_wait": 7, "type_wait": 7, "survey_wait": 7,
    "quota_reached": 8,
}


@dataclass(frozen=True)
class Decision:
    decision: str            # "prompt" or "skip"
    reason: str              # machine-readable, see docs/decisions.md
    detail: str
    trigger_id: int | None = None
    survey_id: int | None = None
    transaction: str | None = None   # the transaction's stored form, when the trigger has a key

    @property
    def prompted(self) -> bool:
        return self.decision == "prompt"


def skip(reason: str, detail: str, trigger: Mapping[str, Any] | None = None) -> Decision:
    return Decision("skip", reason, detail, trigger["id"] if trigger else None,
                    trigger["survey_id"] if trigger else None)


# --------------------------------------------------------------------------- plain data

@dataclass(frozen=True)
class Trigger:
    id: int
    event_name: str
    survey_id: int
    conditions: Mapping[str, Any] | None = None
    source: str = "backend"                       # "backend" or "any"
    sample_rate: float = 100.0
    variants: tuple[tuple[int, float], ...] = ()  # (survey_id, weight); empty = survey_id alone
    delay_seconds: int = 0
    ttl_seconds: int = DEFAULT_TTL
    transaction_key: str | None = None
    priority: int = 0
    uses_traits: bool = False

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "Trigger":
        conditions = row.get("conditions") or None
        variants = tuple((int(v["survey_id"]), float(v["weight"])) for v in (row.get("variants") or ()))
        return cls(
            id=row["id"], event_name=row["event_name"], survey_id=row["survey_id"], conditions=conditions,
            source=row.get("source") or "backend",
            sample_rate=100.0 if row.get("sample_rate") is None else float(row["sample_rate"]),
            variants=variants, delay_seconds=row.get("delay_seconds") or 0,
            ttl_seconds=row.get("ttl_seconds") or DEFAULT_TTL,
            transaction_key=row.get("transaction_key") or None, priority=row.get("priority") or 0,
            uses_traits="traits." in json.dumps(conditions) if conditions else False,
        )


@dataclass(frozen=True)
class Survey:
    id: int
    metric: str
    status: str = "active"
    quota: SurveyQuota | None = None   # None: no quota, the counts are never asked for

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "Survey":
        quota = {k: v for k, v in (row.get("quota") or {}).items() if v is not None}
        return cls(id=row["id"], metric=row["metric"], status=row.get("status") or "active",
                   quota=SurveyQuota(**quota) if quota else None)


@dataclass(frozen=True)
class Event:
    name: str
    user_id: str
    properties: Mapping[str, Any] = field(default_factory=dict)
    source: str = "backend"            # "backend" or "widget"
    timestamp: float | None = None     # when it happened; None = now


class Facts(Protocol):
    """What the engine may ask about the user and the surveys; answered lazily."""

    def traits(self) -> Mapping[str, Any]: ...
    def history(self) -> UserHistory: ...
    def counts(self, survey_id: int) -> SurveyCounts: ...
    def transaction_prompt(self, transaction: str) -> str | None: ...


@dataclass
class StaticFacts:
    """Facts as plain data (tests, benchmarks, anything that already has them)."""
    user_traits: Mapping[str, Any] = field(default_factory=dict)
    user_history: UserHistory = field(default_factory=UserHistory)
    survey_counts: Mapping[int, SurveyCounts] = field(default_factory=dict)
    transactions: Mapping[str, str] = field(default_factory=dict)

    def traits(self) -> Mapping[str, Any]:
        return self.user_traits

    def history(self) -> UserHistory:
        return self.user_history

    def counts(self, survey_id: int) -> SurveyCounts:
        return self.survey_counts.get(survey_id, SurveyCounts())

    def transaction_prompt(self, transaction: str) -> str | None:
        return self.transactions.get(transaction)


# --------------------------------------------------------------------------- the engine

def transaction_of(key: str, properties: Mapping[str, Any]) -> tuple[str, Any] | None:
    """(stored form, value) of the event's transaction, or None when the property is missing.

    The stored form is `key=<JSON value>` (`order_id="ord-1001"`), so the same order id sent as
    a string and as a number are two transactions, and two keys never collide.
    """
    value = cond.resolve(f"properties.{key}", {"properties": properties})
    if cond.is_missing(value):
        return None
    return f"{key}={json.dumps(value, sort_keys=True, separators=(',', ':'))}", value


def order(triggers: Sequence[Trigger]) -> list[Trigger]:
    """The arbitration order: descending priority, then ascending id."""
    return sorted(triggers, key=lambda t: (-t.priority, t.id))


def decide(event: Event, triggers: Sequence[Trigger], surveys: Mapping[int, Survey],
           policy: FatiguePolicy, site_key: str, facts: Facts, now: float,
           ordered: bool = False) -> Decision:
    """The decision on one event. `triggers` are the site's active triggers for `event.name`."""
    if not triggers:
        return Decision("skip", "no_trigger", f"no active trigger for event '{event.name}'")
    best: Decision | None = None
    best_stage = 0
    for trigger in (triggers if ordered else order(triggers)):
        decision = _try(event, trigger, surveys, policy, site_key, facts, now)
        if decision.prompted:
            return decision
        stage = STAGE.get(decision.reason, 0)
        if stage > best_stage:
            best, best_stage = decision, stage
    return best  # type: ignore[return-value]  # at least one trigger was tried


def _skip(reason: str, detail: str, trigger: Trigger, survey_id: int | None = None) -> Decision:
    return Decision("skip", reason, detail, trigger.id, survey_id if survey_id is not None else trigger.survey_id)


def _try(event: Event, t: Trigger, surveys: Mapping[int, Survey], policy: FatiguePolicy,
         site_key: str, facts: Facts, now: float) -> Decision:
    if event.source != "backend" and t.source != "any":
        return _skip("source_not_allowed",
                     f"trigger {t.id} accepts backend events only; this event came from the {event.source}", t)
    if event.timestamp is not None and now - event.timestamp > t.ttl_seconds:
        return _skip("stale_event", f"event is {human(now - event.timestamp)} old; trigger {t.id}'s prompts "
                                    f"live {human(t.ttl_seconds)}", t)
    if t.conditions:
        traits = facts.traits() if t.uses_traits else None
        if not cond.evaluate(t.conditions, event.properties, traits):
            return _skip("conditions_false",
                         f"trigger {t.id}: {cond.explain(t.conditions, event.properties, traits)}", t)
    if t.sample_rate < 100 and not sampled_in(t.sample_rate, site_key, t.id, event.user_id):
        return _skip("sampled_out", f"trigger {t.id} samples {t.sample_rate:g}% of users; "
                                    "this user is not in the sample", t)
    survey_id = choose_variant(t.variants, site_key, t.id, event.user_id) if t.variants else t.survey_id
    survey = surveys.get(survey_id)
    if survey is None or survey.status != "active":
        return _skip("survey_paused", f"survey {survey_id} is {'paused' if survey else 'gone'}", t, survey_id)
    transaction = None
    if t.transaction_key:
        found = transaction_of(t.transaction_key, event.properties)
        if found is not None:
            transaction, value = found
            prompt_id = facts.transaction_prompt(transaction)
            if prompt_id is not None:
                return _skip("transaction_seen", f"{t.transaction_key} {json.dumps(value)} already has "
                                                 f"prompt {prompt_id}", t, survey_id)
    blocked = check_all(policy, facts.history(), survey_id, survey.metric, now,
                        survey.quota, facts.counts(survey_id) if survey.quota else None)
    if blocked is not None:
        return _skip(blocked.reason, blocked.detail, t, survey_id)
    return Decision("prompt", "prompted", f"trigger {t.id} asks survey {survey_id}", t.id, survey_id, transaction)
