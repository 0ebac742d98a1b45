"""Applying each site's retention policy: now (`ces retention run`) or in the background.

The policy and its cut-offs are pure (core/retention.py); the SQL, in small batches that never
hold the write lock long, is storage/retention.py. The background job is one daemon thread (a
greenlet under gevent's monkeypatching) that runs every `interval` seconds and sleeps `pause`
seconds between batches, so the requests it shares the write lock with always get their turn.
Several processes on one database may each run it: every batch checks its conditions again
inside its own transaction, so two runs never do anything twice.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any, Callable

from .core.retention import RetentionPolicy, cutoffs, policy_from_dict
from .periodic import PeriodicJob
from .rules_cache import policy_from_settings
from .storage import Storage
from .storage import retention as sql

log = logging.getLogger(__name__)

BATCH = 500
PAUSE = 0.01  # seconds between two batches of the background job


def site_policy(settings: Any) -> RetentionPolicy:
    """The site's retention policy: `settings["retention"]` over the defaults."""
    if isinstance(settings, str):
        settings = json.loads(settings or "{}")
    try:
        return policy_from_dict((settings or {}).get("retention"))
    except ValueError:  # only valid policies are stored (PUT /sites/<id>/retention validates)
        return RetentionPolicy()


def run(storage: Storage, now: float, batch: int = BATCH, pause: float = 0.0,
        site_id: int | None = None) -> dict[int, dict[str, int]]:
    """Apply every site's policy (or one site's) once; rows changed per site and kind."""
    def breathe() -> None:
        sql.checkpoint(storage)
        if pause:
            time.sleep(pause)

    # Prompts past their expiry are closed first (as every report does): until then they look
    # open, and an open prompt keeps its event.
    storage.expire_due(now)
    done: dict[int, dict[str, int]] = {}
    for sid, settings in sql.site_settings(storage):
        if site_id is not None and sid != site_id:
            continue
        policy = site_policy(settings)
        cut = cutoffs(policy, now, policy_from_settings(settings).lookback())
        counts: dict[str, int] = {}
        # Answers first: an answer anonymised or deleted here frees nothing the later steps need,
        # and in "delete" mode its prompt and event go with it.
        if cut.answers is not None and policy.answers == "anonymise":
            counts["answers_anonymised"] = sql.anonymise_answers(storage, sid, cut.answers, now, batch, breathe)
        elif cut.answers is not None and policy.answers == "delete":
            counts["answers_deleted"] = sql.delete_answers(storage, sid, cut.answers, batch, breathe)
        counts["events_deleted"] = sql.delete_events(storage, sid, cut.events, batch, breathe)
        counts["prompts_deleted"] = sql.delete_prompts(storage, sid, cut.prompts, batch, breathe)
        counts["traits_deleted"] = sql.delete_traits(storage, sid, cut.traits, batch, breathe)
        # A finished delivery names the user of its answer: it goes with the events, or sooner when
        # the answers are anonymised or deleted sooner.
        deliveries_before = max(cut.events, cut.answers if cut.answers is not None else cut.events)
        counts["webhook_deliveries_deleted"] = sql.delete_deliveries(storage, sid, deliveries_before, batch, breathe)
        done[sid] = counts
    return done


class RetentionJob(PeriodicJob):
    """Runs `run()` in the background: first `first_run` seconds after start, then every `interval`."""
    name = "ces-retention"

    def __init__(self, storage: Storage, clock: Callable[[], float], interval: float, first_run: float = 30.0,
                 batch: int = BATCH, pause: float = PAUSE) -> None:
        super().__init__(storage, interval, first_run)
        self.clock, self.batch, self.pause = clock, batch, pause

    def run_once(self) -> None:
        done = run(self.storage, self.clock(), self.batch, self.pause)
        changed = {sid: c for sid, c in done.items() if any(c.values())}
        if changed:
            log.info("retention applied: %s", changed)
