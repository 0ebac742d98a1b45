"""Events in, decisions out: the one path every event takes, from the site's backend or the widget.

A batch is decided and recorded in one immediate transaction (`storage.write()`), so two
processes or threads can never both see "no open prompt" for the same user, or "49 prompts
today" for a quota of 50, and both ask. Prompts are pushed to sockets only after the commit.

The rules themselves are pure (`core/decision.py`); `_StorageFacts` answers their questions
with indexed queries on the transaction's own connection, so a prompt created earlier in the
same batch counts for the next event. Triggers, surveys and the site's policy are read once per
batch, never cached across requests: a changed trigger applies from the next request on, in
every process.
"""
from __future__ import annotations

import json
import uuid
from typing import Any, Mapping, Sequence

from .core.decision import Decision, Event, Survey, Trigger, decide, order
from .core.fatigue import (
    CLOSED_STATUSES, FatiguePolicy, PastPrompt, SurveyCounts, UserHistory, policy_from_dict, utc_day_start,
)
from .delivery import push_prompt
from .services import Services
from .storage import Storage, new_key


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


def site_policy(site: Mapping[str, Any]) -> FatiguePolicy:
    """The site's fatigue policy: `settings["fatigue"]` over FatiguePolicy()'s defaults."""
    settings = site.get("settings") or {}
    if isinstance(settings, str):
        settings = json.loads(settings)
    try:
        return policy_from_dict(settings.get("fatigue") or {})
    except ValueError:  # only valid policies are stored (PUT /sites/<id>/fatigue validates)
        return FatiguePolicy()


class _StorageFacts:
    """The engine's questions about one user, asked of the database only when needed."""

    __slots__ = ("storage", "site_id", "user_id", "policy", "now", "batch", "_traits", "_history")

    def __init__(self, batch: "_Batch", user_id: str) -> None:
        self.storage, self.site_id, self.user_id = batch.storage, batch.site_id, user_id
        self.policy, self.now, self.batch = batch.policy, batch.now, batch
        self._traits: Mapping[str, Any] | None = None
        self._history: UserHistory | None = None

    def traits(self) -> Mapping[str, Any]:
        if self._traits is None:
            self._traits = self.storage.traits(self.site_id, self.user_id)
        return self._traits

    def history(self) -> UserHistory:
        if self._history is None:
            lookback = self.policy.lookback()
            since = None if lookback is None else self.now - lookback
            prompts = []
            for pid, survey_id, metric, status, created, shown, closed, expires in \
                    self.storage.rules_user_prompts(self.site_id, self.user_id, since):
                if status not in CLOSED_STATUSES and expires is not None and expires <= self.now:
                    status, closed = "expired", expires  # past its expiry, not yet swept
                prompts.append(PastPrompt(survey_id, metric, status, created, shown, closed, pid))
            self._history = UserHistory(tuple(prompts))
        return self._history

    def counts(self, survey_id: int) -> SurveyCounts:
        return SurveyCounts(*self.batch.counts(survey_id))

    def transaction_prompt(self, transaction: str) -> str | None:
        return self.storage.rules_transaction_prompt(self.site_id, transaction)


class _Batch:
    """Per-batch state: the site's surveys, policy and triggers by event name."""

    def __init__(self, storage: Storage, site: Mapping[str, Any], now: float) -> None:
        self.storage, self.site, self.now = storage, site, now
        self.site_id: int = site["id"]
        # Read again inside the transaction: a widget's socket holds the site row it connected
        # with, and a policy changed since then must apply to its next event.
        self.policy = site_policy(storage.get_site(self.site_id) or site)
        self.day_start = utc_day_start(now)
        self.surveys = {s["id"]: Survey.from_row(s) for s in storage.rules_surveys(self.site_id)}
        self.triggers: dict[str, list[Trigger]] = {}
        self.by_id: dict[int, Trigger] = {}
        for row in storage.rules_triggers(self.site_id):
            trigger = Trigger.from_row(row)
            self.triggers.setdefault(trigger.event_name, []).append(trigger)
            self.by_id[trigger.id] = trigger
        for name, found in self.triggers.items():
            self.triggers[name] = order(found)

        # A survey's quota counts, read once per batch: the batch holds the write lock, so
        # nobody else adds prompts or answers meanwhile, and its own prompts are added below.
        self._counts: dict[int, list[int]] = {}

    def triggers_for(self, name: str) -> list[Trigger]:
        return self.triggers.get(name, [])

    def counts(self, survey_id: int) -> list[int]:
        found = self._counts.get(survey_id)
        if found is None:
            q = self.surveys[survey_id].quota
            which = (True, True, True, True) if q is None else (
                q.max_prompts_per_day is not None, q.max_answers_per_day is not None,
                q.max_prompts_total is not None, q.max_answers_total is not None)
            found = list(self.storage.rules_survey_counts(survey_id, self.day_start, which))
            self._counts[survey_id] = found
        return found

    def issued(self, survey_id: int) -> None:
        found = self._counts.get(survey_id)
        if found is not None:
            found[0] += 1  # prompts today
            found[2] += 1  # prompts in total


def ingest(services: Services, site: Mapping[str, Any], events: Sequence[Mapping[str, Any]],
           source: str = "backend", dry_run: bool = False) -> list[dict[str, Any]]:
    """Decide and record every event; push the prompts that are due. Events are already validated."""
    now = services.now()
    storage = services.storage
    results: list[dict[str, Any]] = []
    issued: list[tuple[str, str, float]] = []  # (prompt_id, user_id, deliver_after)
    site_id, site_key = site["id"], site["site_key"]
    try:
        with storage.write(durable=False) as db:  # decisions: no fsync on the push path
            batch = _Batch(storage, site, now)
            next_row = storage.rules_next_event_row(db)
            rows: list[tuple[Any, ...]] = []
            event_ids = [e.get("event_id") or uuid.uuid4().hex for e in events]
            seen = storage.rules_seen_events(site_id, [e for e, given in zip(event_ids, events)
                                                       if given.get("event_id")])
            for event, event_id in zip(events, event_ids):
                if event_id in seen:
                    results.append({"event_id": event_id, "decision": "skip", "reason": "duplicate_event",
                                    "detail": f"event_id {json.dumps(event_id)} was already received",
                                    "prompt_id": seen[event_id]})
                    continue
                name, user_id = event["name"], event["user_id"]
                properties = event.get("properties") or {}
                timestamp = event.get("timestamp")
                facts = _StorageFacts(batch, user_id)
                decision: Decision = decide(Event(name, user_id, properties, source, timestamp),
                                            batch.triggers_for(name), batch.surveys, batch.policy, site_key,
                                            facts, now, ordered=True)
                prompt_id = None
                row_id = next_row + len(rows)
                if decision.prompted:
                    trigger = batch.by_id[decision.trigger_id]  # type: ignore[index]
                    prompt_id = new_key("p", 12)
                    # Inserted now: the next event of this batch must see it (open prompt, quota,
                    # transaction). The events themselves are written in one go below.
                    storage.rules_insert_prompt(db, (
                        prompt_id, site_id, user_id, decision.survey_id, decision.trigger_id, decision.transaction,
                        now, now + trigger.delay_seconds, now + trigger.ttl_seconds, row_id, decision.variant))
                    issued.append((prompt_id, user_id, now + trigger.delay_seconds))
                    batch.issued(decision.survey_id)  # type: ignore[arg-type]
                rows.append((row_id, site_id, event_id, user_id, name, json.dumps(properties, separators=(",", ":")),
                             timestamp if timestamp is not None else now, now, source, decision.decision,
                             decision.reason, decision.detail, decision.trigger_id, prompt_id))
                seen[event_id] = prompt_id  # the same event_id later in this batch is a duplicate
                results.append({"event_id": event_id, "decision": decision.decision, "reason": decision.reason,
                                "detail": decision.detail, "prompt_id": prompt_id})
            storage.rules_insert_events(db, rows)
            if dry_run:
                raise _DryRun
    except _DryRun:
        return results
    _dispatch(services, site_id, issued)
    return results


def _dispatch(services: Services, site_id: int, issued: list[tuple[str, str, float]]) -> None:
    """Push the prompts that are due to their users' open sockets; schedule the delayed ones.

    A user with no socket open right now needs nothing: the prompt is committed, and the widget
    gets it on connecting (`deliver_pending`), so the database is not read for them.
    """
    now = services.now()
    for prompt_id, user_id, deliver_after in issued:
        if deliver_after > now:
            if services.scheduler is not None:
                services.scheduler.schedule(deliver_after, prompt_id)
        elif services.hub.connections(site_id, user_id):
            push_prompt(services, prompt_id)
