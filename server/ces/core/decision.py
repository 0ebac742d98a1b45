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
from json.encoder import encode_basestring_ascii as _json_str
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NamedTuple, Protocol, Sequence

from . import conditions as cond
from . import occurrences as occ
from .durations import human
from .fatigue import FatiguePolicy, SurveyCounts, SurveyQuota, UserHistory, check, check_quota
from .sampling import check_weights, pick_variant, sampled_in
from .time_zones import span_start
from .visits import Visit, check_visit

DAY = 86_400
DEFAULT_TTL = 7 * DAY

# How far each reason got through the per-trigger stages: when no trigger prompts, the one
# that got furthest explains the event (ties: the first tried, i.e. highest priority).
STAGE: dict[str, int] = {
    "source_not_allowed": 1, "stale_event": 2, "conditions_false": 3, "sampled_out": 4,
    "survey_paused": 5, "transaction_seen": 6,
    "prompt_open": 7, "user_cap": 7, "recontact_wait": 7, "type_wait": 7, "survey_wait": 7,
    "occurrences_false": 3, "visit_cap": 7, "visit_start": 7,
    "quota_reached": 8,
}


class Decision(NamedTuple):
    """The engine's answer. A NamedTuple, not a frozen dataclass: one is made per event, and
    building a frozen dataclass costs four times as much (it sets each field through
    object.__setattr__)."""
    decision: str            # "prompt" or "skip"
    reason: str              # machine-readable, see docs/decisions.md
    detail: str
    trigger_id: int | None = None
    survey_id: int | None = None
    transaction: str | None = None   # the transaction's stored form, when the trigger has a key
    variant: str | None = None       # the variant's label, when the trigger splits between surveys

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
    occurrences: tuple[occ.Occurrence, ...] = ()
    cancel_events: tuple[str, ...] = ()          # events that call off this trigger's pending delayed prompt
    cancel_same_transaction: bool = False        # ... only for the same transaction key value
    variant_labels: Mapping[int, str] = field(default_factory=dict, compare=False)
    check: Callable[[Any, Any], bool] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.variants:
            check_weights(self.variants)  # here, once, not on every event the trigger decides
        if self.conditions and self.check is None:
            object.__setattr__(self, "check", compile_conditions(self.conditions))

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
            occurrences=occ.parse(row.get("occurrences"), row["event_name"]),
            cancel_events=tuple(row.get("cancel_events") or ()),
            cancel_same_transaction=bool(row.get("cancel_same_transaction")),
            variant_labels={int(v["survey_id"]): str(v.get("label") or v["survey_id"])
                            for v in (row.get("variants") or ())},
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
    # Asked only by triggers with occurrence conditions / policies with visit layers:
    def occurrences(self, event_name: str, since: float | None) -> int: ...   # stored, before this event
    def visit(self) -> Visit | None: ...


@dataclass
class StaticFacts:
    """Facts as plain data (tests, benchmarks, anything that already has them)."""
    user_traits: Mapping[str, Any] = field(default_factory=dict)
    user_history: UserHistory = field(default_factory=UserHistory)
    survey_counts: Mapping[int, SurveyCounts] = field(default_factory=dict)
    transactions: Mapping[str, str] = field(default_factory=dict)
    event_counts: Mapping[str, int] = field(default_factory=dict)   # event name -> times sent before
    current_visit: Visit | None = None

    def occurrences(self, event_name: str, since: float | None) -> int:
        return self.event_counts.get(event_name, 0)

    def visit(self) -> Visit | None:
        return self.current_visit

    def traits(self) -> Mapping[str, Any]:
        return self.user_traits

    def history(self) -> UserHistory:
        return self.user_history

    def counts(self, survey_id: int) -> SurveyCounts:
        return self.survey_counts.get(survey_id, SurveyCounts())

    def transaction_prompt(self, transaction: str) -> str | None:
        return self.transactions.get(transaction)


# --------------------------------------------------------------------------- compiled conditions

def compile_conditions(tree: Mapping[str, Any]) -> Callable[[Any, Any], bool]:
    """`conditions.evaluate(tree, properties, traits)` as a function built once per trigger.

    Same semantics by construction: each leaf is `conditions._eval_leaf` on the value that
    `conditions.resolve` would find (`conditions.compile_leaf` gives it a fast path for plain
    JSON values); only the walk down the tree and the common lookup (one name in a dict) are
    done ahead of time. tests/unit/test_engine.py checks the two agree.
    """
    if not tree:
        return lambda properties, traits: True
    return _compile_node(tree)


def _compile_node(node: Mapping[str, Any]) -> Callable[[Any, Any], bool]:
    if "all" in node:
        return _group([_compile_node(c) for c in node["all"]], want=False)
    if "any" in node:
        return _group([_compile_node(c) for c in node["any"]], want=True)
    get = _getter(node["field"])
    leaf = cond.compile_leaf(node)
    return lambda p, t: leaf(get(p, t))


def _group(kids: list[Callable[[Any, Any], bool]], want: bool) -> Callable[[Any, Any], bool]:
    """all() (want=False: stop at the first false) or any() (want=True: stop at the first true)."""
    if len(kids) == 1:
        return kids[0]
    if len(kids) == 2:  # the common case, without a loop
        a, b = kids
        return (lambda p, t: a(p, t) or b(p, t)) if want else (lambda p, t: a(p, t) and b(p, t))

    def group(p: Any, t: Any) -> bool:
        for kid in kids:
            if bool(kid(p, t)) is want:
                return want
        return not want
    return group


def _getter(field_path: str) -> Callable[[Any, Any], Any]:
    prefix, _, rest = field_path.partition(".")
    if prefix not in cond.PREFIXES or not rest:
        raise ValueError(f"bad field {field_path!r}")
    missing = cond._MISSING
    is_properties = prefix == "properties"

    def slow(p: Any, t: Any) -> Any:
        return cond.resolve(field_path, cond._sources(p, t))

    if "." in rest:
        return slow

    def get(p: Any, t: Any) -> Any:
        source = p if is_properties else t
        if type(source) is not dict:
            return slow(p, t)
        value = source.get(rest, missing)
        return missing if value is None else value
    return get


# --------------------------------------------------------------------------- the engine

def transaction_of(key: str, properties: Mapping[str, Any]) -> tuple[str, Any] | None:
    """(stored form, value) of the event's transaction, or None when the property is missing.

    The stored form is `key=<JSON value>` (`order_id="ord-1001"`), so the same order id sent as
    a string and as a number are two transactions, and two keys never collide.
    """
    value = properties.get(key) if type(properties) is dict and "." not in key else \
        cond.resolve(f"properties.{key}", {"properties": properties})
    if value is None or cond.is_missing(value):
        return None
    if type(value) is str:
        return f"{key}={_json_str(value)}", value
    return f"{key}={json.dumps(value, sort_keys=True, separators=(',', ':'))}", value


def order(triggers: Sequence[Trigger]) -> list[Trigger]:
    """The arbitration order: descending priority, then ascending id."""
    return sorted(triggers, key=lambda t: (-t.priority, t.id))


def decide(event: Event, triggers: Sequence[Trigger], surveys: Mapping[int, Survey],
           policy: FatiguePolicy, site_key: str, facts: Facts, now: float,
           ordered: bool = False, time_zone: str | None = None,
           trace: list[Decision] | None = None) -> Decision:
    """The decision on one event. `triggers` are the site's active triggers for `event.name`.

    `ordered=True` says they already are in arbitration order (see `order()`). `time_zone` is the
    site's (None = UTC): whole-day waits, windows and quota days are counted there. `trace`, when
    given, receives the outcome of every trigger tried, in the order tried (a dry run's
    explanation: the reported skip is one of them, the others say why they did not ask either).
    """
    if not triggers:
        return Decision("skip", "no_trigger", f"no active trigger for event '{event.name}'")
    best: _Skipped | None = None
    best_stage = 0
    for trigger in (triggers if ordered else order(triggers)):
        outcome = _try(event, trigger, surveys, policy, site_key, facts, now, time_zone)
        if type(outcome) is Decision:
            if trace is not None:
                trace.append(outcome)
            return outcome
        if trace is not None:
            reason, tried, survey_id, detail = outcome  # type: ignore[misc]
            trace.append(Decision("skip", reason, detail() if callable(detail) else detail, tried.id, survey_id))
        stage = STAGE[outcome[0]]  # type: ignore[index]
        if stage > best_stage:
            best, best_stage = outcome, stage  # type: ignore[assignment]
    # Only the reported skip gets its sentence written.
    reason, trigger, survey_id, detail = best  # type: ignore[misc]
    return Decision("skip", reason, detail() if callable(detail) else detail, trigger.id, survey_id)


# (reason, trigger, survey_id, detail or a function writing it)
_Skipped = tuple


def _try(event: Event, t: Trigger, surveys: Mapping[int, Survey], policy: FatiguePolicy,
         site_key: str, facts: Facts, now: float, time_zone: str | None = None) -> Decision | _Skipped:
    if event.source != "backend" and t.source != "any":
        return ("source_not_allowed", t, t.survey_id,
                lambda: f"trigger {t.id} accepts backend events only; this event came from the {event.source}")
    if event.timestamp is not None and now - event.timestamp > t.ttl_seconds:
        return ("stale_event", t, t.survey_id,
                lambda: f"event is {human(now - event.timestamp)} old; trigger {t.id}'s prompts "  # type: ignore[operator]
                        f"live {human(t.ttl_seconds)}")
    if t.check is not None:
        traits = facts.traits() if t.uses_traits else None
        if not t.check(event.properties, traits):
            return ("conditions_false", t, t.survey_id,
                    lambda: f"trigger {t.id}: {cond.explain(t.conditions, event.properties, traits)}")
    for o in t.occurrences:
        since = None if o.within_days is None else span_start(now, o.within_days * DAY, time_zone)
        count = facts.occurrences(o.event, since) + (event.name == o.event)
        if not o.holds(count):
            return ("occurrences_false", t, t.survey_id, f"trigger {t.id}: {o.describe(count)}")
    if t.sample_rate < 100 and not sampled_in(t.sample_rate, site_key, t.id, event.user_id):
        return ("sampled_out", t, t.survey_id,
                lambda: f"trigger {t.id} samples {t.sample_rate:g}% of users; this user is not in the sample")
    survey_id = pick_variant(t.variants, site_key, t.id, event.user_id) if t.variants else t.survey_id
    survey = surveys.get(survey_id)
    if survey is None or survey.status != "active":
        return ("survey_paused", t, survey_id, f"survey {survey_id} is {'paused' if survey else 'gone'}")
    transaction = None
    if t.transaction_key:
        found = transaction_of(t.transaction_key, event.properties)
        if found is not None:
            transaction, value = found
            prompt_id = facts.transaction_prompt(transaction)
            if prompt_id is not None:
                return ("transaction_seen", t, survey_id,
                        lambda: f"{t.transaction_key} {json.dumps(value)} already has prompt {prompt_id}")
    blocked = check(policy, facts.history(), survey_id, survey.metric, now, time_zone)
    if blocked is None and (policy.max_prompts_per_visit is not None or policy.min_visit_seconds is not None):
        blocked = check_visit(policy, facts.history(), facts.visit(), now)
    if blocked is None and survey.quota is not None:
        blocked = check_quota(survey.quota, facts.counts(survey_id), time_zone)
    if blocked is not None:
        return (blocked.reason, t, survey_id, blocked.detail)
    return Decision("prompt", "prompted", f"trigger {t.id} asks survey {survey_id}", t.id, survey_id, transaction,
                    (t.variant_labels.get(survey_id) or str(survey_id)) if t.variants else None)
