"""Events in, decisions out: the one path every event takes, from the site's backend or the widget.

A batch is decided and recorded in one immediate transaction (`storage.write()`), so two
processes or threads can never both see "no open prompt" for the same user, or "49 prompts
today" for a quota of 50, and both ask. Prompts are pushed to sockets only after the commit.

The rules themselves are pure (`core/decision.py`); `_Batch` answers their questions from a
few indexed queries made up front on the transaction's own connection (the histories of the
batch's users, the transactions its events name, the quota counts), and adds each prompt it
issues to them, so a prompt issued earlier in the batch counts for the next event. Prompts and
events are written with one `executemany` each. Triggers, surveys and the site's policy are read
on every batch (compiled once while unchanged, `rules_cache.py`): a changed trigger applies from
the next request on, in every process.
"""
from __future__ import annotations

import json
import uuid
from typing import Any, Mapping, Sequence

from .core import reasons
from .core.compact_json import compact_json
from .core.decision import Decision, Event, Trigger, decide, transaction_of
from .core.fatigue import CLOSED_STATUSES, PastPrompt, SurveyCounts, UserHistory
from .core.time_zones import day_start
from .core.visits import Visit, current, uses_visits
from .services import Services
from .storage import new_prompt_id
from .storage.erasure import opted_out_users

# A user who opted out is never asked again on the site, whatever the trigger (docs/decisions.md).
OPTED_OUT = Decision("skip", "opted_out", "the user opted out of surveys on this site")
from .storage.cancellations import cancel_pending
from .storage.occurrences import count_events
from .storage.visits import recent_visits


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


class _StorageFacts:
    """The engine's questions about one user, answered from the batch (traits: asked lazily)."""

    __slots__ = ("batch", "user_id", "_traits")

    def __init__(self, batch: "_Batch", user_id: str) -> None:
        self.batch, self.user_id = batch, user_id
        self._traits: Mapping[str, Any] | None = None

    def traits(self) -> Mapping[str, Any]:
        if self._traits is None:
            self._traits = self.batch.storage.traits(self.batch.site_id, self.user_id)
        return self._traits

    def history(self) -> UserHistory:
        return UserHistory(tuple(self.batch.histories.get(self.user_id, ())))

    def counts(self, survey_id: int) -> SurveyCounts:
        return SurveyCounts(*self.batch.counts(survey_id))

    def transaction_prompt(self, transaction: str) -> str | None:
        return self.batch.transactions.get(transaction)

    def occurrences(self, event_name: str, since: float | None) -> int:
        return self.batch.occurrences(self.user_id, event_name, since)

    def visit(self) -> Visit | None:
        return current(self.batch.visits.get(self.user_id, []), self.batch.now)


class _Batch:
    """Per-batch state: the site's rules (as stored now), and what the engine will ask about the
    batch's users, read in a few queries up front and kept current as the batch issues prompts.

    The batch holds the write lock from the first read to the commit, so nobody else adds
    prompts or answers meanwhile: what was read plus what this batch issued is the truth.
    """

    def __init__(self, services: Services, site: Mapping[str, Any], now: float) -> None:
        self.storage, self.site, self.now = services.storage, site, now
        self.site_id: int = site["id"]
        # Read inside the transaction, never kept from the site row a widget's socket holds:
        # a trigger or policy changed by any process applies to the next batch.
        rules = services.rules.rules(self.storage, self.site_id)
        self.policy, self.surveys, self.triggers, self.by_id = rules.policy, rules.surveys, rules.triggers, rules.by_id
        self.cancels, self.time_zone = rules.cancels, rules.time_zone
        self.day_start = day_start(now, self.time_zone)  # quota days are the site's calendar days
        self.visits: dict[str, list[Visit]] = {}
        self.sent: dict[tuple[str, str], list[float]] = {}  # (user, event name) -> this batch's event times
        self._stored_counts: dict[tuple[str, str, float | None], int] = {}
        self._counts: dict[int, tuple[int, int, int, int]] = {}  # survey -> stored counts, read when first asked
        self._issued: dict[int, int] = {}            # survey -> prompts issued by this batch
        self.histories: dict[str, list[PastPrompt]] = {}
        self.transactions: dict[str, str] = {}       # stored transaction form -> its prompt id
        self.prompts: list[tuple[Any, ...]] = []     # rows for rules_insert_prompts, at the end
        self.opted_out: set[str] = set()             # users of the batch who opted out

    def triggers_for(self, name: str) -> list[Trigger]:
        return self.triggers.get(name, [])

    def preload(self, events: Sequence[Mapping[str, Any]]) -> None:
        """The prompt histories and transactions the engine may ask about, in one query each."""
        users: set[str] = set()
        transactions: set[str] = set()
        for event in events:
            triggers = self.triggers.get(event["name"])
            if not triggers:
                continue  # no_trigger: nothing is asked about this user
            users.add(event["user_id"])
            for trigger in triggers:
                if trigger.transaction_key:
                    found = transaction_of(trigger.transaction_key, event.get("properties") or {})
                    if found is not None:
                        transactions.add(found[0])
        lookback = self.policy.lookback()
        since = None if lookback is None else self.now - lookback
        now = self.now
        if uses_visits(self.policy) and users:
            self.visits = recent_visits(self.storage.db.conn, self.site_id, users, now)
            # A visit cap counts every prompt of the visit, however old the other layers look back.
            starts = [v.started_at for vs in self.visits.values() for v in vs]
            if starts:
                since = min(starts) if since is None else min(since, min(starts))
        for user_id, pid, survey_id, metric, status, created, shown, closed, expires in \
                self.storage.rules_users_prompts(self.site_id, users, since):
            if status not in CLOSED_STATUSES and expires is not None and expires <= now:
                status, closed = "expired", expires  # past its expiry, not yet swept
            self.histories.setdefault(user_id, []).append(
                PastPrompt(survey_id, metric, status, created, shown, closed, pid))
        self.transactions = self.storage.rules_transaction_prompts(self.site_id, transactions)
        self.opted_out = opted_out_users(self.storage.db.conn, self.site_id, users)

    def occurrences(self, user_id: str, name: str, since: float | None) -> int:
        """Events `name` of the user stored before this batch, plus those earlier in the batch."""
        key = (user_id, name, since)
        stored = self._stored_counts.get(key)
        if stored is None:
            stored = self._stored_counts[key] = count_events(self.storage.db.conn, self.site_id, user_id, name, since)
        mine = self.sent.get((user_id, name), ())
        return stored + (len(mine) if since is None else sum(1 for t in mine if t >= since))

    def record_event(self, user_id: str, name: str, timestamp: float) -> None:
        self.sent.setdefault((user_id, name), []).append(timestamp)

    def cancel(self, db: Any, event_name: str, user_id: str, properties: Mapping[str, Any]) -> list[str]:
        """Call off the user's pending delayed prompts of the triggers that `event_name` cancels."""
        triggers = self.cancels.get(event_name)
        if not triggers:
            return []
        # This batch's own prompts are written first, so one UPDATE sees them all.
        self.storage.rules_insert_prompts(db, self.prompts)
        self.prompts = []
        cancelled: list[str] = []
        for t in triggers:
            transaction = None
            if t.cancel_same_transaction and t.transaction_key:
                found = transaction_of(t.transaction_key, properties)
                if found is None:
                    continue  # "the same transaction" with no transaction on the event: nothing to match
                transaction = found[0]
            cancelled += cancel_pending(db.conn, self.site_id, user_id, [t.id], transaction, self.now)
        if cancelled:
            gone = set(cancelled)
            history = self.histories.get(user_id, [])
            self.histories[user_id] = [p for p in history if p.prompt_id not in gone]
            self.transactions = {k: v for k, v in self.transactions.items() if v not in gone}
        return cancelled

    def counts(self, survey_id: int) -> tuple[int, int, int, int]:
        """The survey's quota counts: as stored when the batch began (each up to its limit, which is
        all a quota check needs), plus the prompts the batch issued."""
        stored = self._counts.get(survey_id)
        if stored is None:
            q = self.surveys[survey_id].quota  # only surveys with a quota are asked about
            limits = (None, None, None, None) if q is None else (
                q.max_prompts_per_day, q.max_answers_per_day, q.max_prompts_total, q.max_answers_total)
            stored = self._counts[survey_id] = self.storage.rules_survey_counts(survey_id, self.day_start, limits)
        mine = self._issued.get(survey_id, 0)
        return stored[0] + mine, stored[1], stored[2] + mine, stored[3]

    def issue(self, decision: Decision, user_id: str, row_id: int) -> tuple[str, float]:
        """Record a prompt the engine decided on; the next event of the batch sees it."""
        trigger = self.by_id[decision.trigger_id]  # type: ignore[index]
        survey_id: int = decision.survey_id  # type: ignore[assignment]
        prompt_id = new_prompt_id(self.now)
        now = self.now
        self.prompts.append((prompt_id, self.site_id, user_id, survey_id, trigger.id, decision.transaction,
                             now, now + trigger.delay_seconds, now + trigger.ttl_seconds, row_id, decision.variant))
        self.histories.setdefault(user_id, []).append(
            PastPrompt(survey_id, self.surveys[survey_id].metric, "issued", now, None, None, prompt_id))
        if decision.transaction is not None:
            self.transactions[decision.transaction] = prompt_id
        self._issued[survey_id] = self._issued.get(survey_id, 0) + 1
        return prompt_id, now + trigger.delay_seconds


def ingest(services: Services, site: Mapping[str, Any], events: Sequence[Mapping[str, Any]],
           source: str = "backend", dry_run: bool = False, explain: bool = False) -> list[dict[str, Any]]:
    """Decide and record every event; push the prompts that are due. Events are already validated.

    `explain`: each result also lists every trigger tried (`tried`, in arbitration order) and a
    `headline` in words (core/reasons.py), as the dashboard's Test page shows them."""
    now = services.now()
    storage = services.storage
    results: list[dict[str, Any]] = []
    issued: list[tuple[str, str, float]] = []  # (prompt_id, user_id, deliver_after)
    site_id, site_key = site["id"], site["site_key"]
    try:
        with storage.write(durable=False) as db:  # decisions: no fsync on the push path
            batch = _Batch(services, site, now)
            next_row = storage.rules_next_event_row(db)
            rows: list[tuple[Any, ...]] = []
            event_ids = [e.get("event_id") or uuid.uuid4().hex for e in events]
            seen = storage.rules_seen_events(site_id, [e for e, given in zip(event_ids, events)
                                                       if given.get("event_id")])
            batch.preload(events)
            for event, event_id in zip(events, event_ids):
                if event_id in seen:
                    results.append({"event_id": event_id, "decision": "skip", "reason": "duplicate_event",
                                    "detail": f"event_id {json.dumps(event_id)} was already received",
                                    "prompt_id": seen[event_id]})
                    continue
                name, user_id = event["name"], event["user_id"]
                properties = event.get("properties") or {}
                timestamp = event.get("timestamp")
                cancelled = batch.cancel(db, name, user_id, properties) if name in batch.cancels else []
                opted_out = user_id in batch.opted_out and batch.triggers_for(name)
                trace: list[Decision] | None = [] if explain else None
                decision: Decision = OPTED_OUT if opted_out else decide(
                    Event(name, user_id, properties, source, timestamp), batch.triggers_for(name), batch.surveys,
                    batch.policy, site_key, _StorageFacts(batch, user_id), now, ordered=True,
                    time_zone=batch.time_zone, trace=trace)
                batch.record_event(user_id, name, timestamp if timestamp is not None else now)
                prompt_id = None
                row_id = next_row + len(rows)
                if decision.prompted:
                    prompt_id, deliver_after = batch.issue(decision, user_id, row_id)
                    issued.append((prompt_id, user_id, deliver_after))
                rows.append((row_id, site_id, event_id, user_id, name, compact_json(properties),
                             timestamp if timestamp is not None else now, now, source, decision.decision,
                             decision.reason, decision.detail, decision.trigger_id, prompt_id))
                seen[event_id] = prompt_id  # the same event_id later in this batch is a duplicate
                results.append({"event_id": event_id, "decision": decision.decision, "reason": decision.reason,
                                "detail": decision.detail, "prompt_id": prompt_id})
                if cancelled:
                    results[-1]["cancelled"] = cancelled
                if trace is not None:
                    results[-1].update(_explained(results[-1], trace, decision, dry_run))
            storage.rules_insert_prompts(db, batch.prompts)
            storage.rules_insert_events(db, rows)
            if dry_run:
                raise _DryRun
    except _DryRun:
        return results
    _dispatch(services, site_id, issued)
    return results


def _explained(result: Mapping[str, Any], trace: list[Decision], decision: Decision,
               dry_run: bool) -> dict[str, Any]:
    """What an explained result adds: the headline, the trigger and survey, every trigger tried."""
    return {"headline": reasons.headline(result, dry_run), "trigger_id": decision.trigger_id,
            "survey_id": decision.survey_id,
            "tried": [{"trigger_id": d.trigger_id, "survey_id": d.survey_id, "decision": d.decision,
                       "reason": d.reason, "title": reasons.title(d.reason), "detail": d.detail} for d in trace]}


def _dispatch(services: Services, site_id: int, issued: list[tuple[str, str, float]]) -> None:
    """Ring the doorbells of the users given a due prompt (whichever process holds their sockets
    sends it); time the delayed ones. A user with no socket open anywhere gets it on connecting."""
    if issued and services.courier is not None:
        services.courier.prompts_issued(site_id, issued)
