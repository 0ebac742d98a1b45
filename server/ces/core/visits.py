"""Visits: a tab's session on the site, and the two fatigue layers that read it.

The widget keeps one visit id per browser tab (sessionStorage) and starts a new one after
`VISIT_IDLE` of inactivity, as web analytics do; it sends the id with `hello`, so the server knows
each user's visits (storage/visits.py). A user's *current* visit is the one seen last, if it was
seen within `VISIT_IDLE`; a user with no current visit is not on the site, and these layers do not
apply to them (their prompt waits for the next visit, see docs/decisions.md).

    max_prompts_per_visit   at most N prompts created during the current visit -> visit_cap
    min_visit_seconds       no prompt in the visit's first S seconds           -> visit_start

Pure: the storage finds the current visit, the history comes from the same place as the other
fatigue layers'.
"""
from __future__ import annotations

from dataclasses import dataclass

from .durations import human
from .fatigue import FatiguePolicy, Skip, UserHistory

# 30 minutes without activity ends a visit: the usual web-analytics session, short enough that
# a user coming back after lunch is on a new visit, long enough that reading a page is not.
VISIT_IDLE = 30 * 60

VISIT_CAP = "visit_cap"
VISIT_START = "visit_start"
REASONS = (VISIT_CAP, VISIT_START)


@dataclass(frozen=True)
class Visit:
    id: str
    started_at: float
    last_seen_at: float


def current(visits: list[Visit], now: float) -> Visit | None:
    """The visit seen last, if it was seen within VISIT_IDLE of `now`."""
    latest = max(visits, key=lambda v: (v.last_seen_at, v.started_at), default=None)
    if latest is None or now - latest.last_seen_at >= VISIT_IDLE:
        return None
    return latest


def uses_visits(policy: FatiguePolicy) -> bool:
    return policy.max_prompts_per_visit is not None or policy.min_visit_seconds is not None


def prompts_in(history: UserHistory, visit: Visit) -> int:
    """The user's prompts created since the visit began (cancelled ones are not in a history)."""
    return sum(1 for p in history.prompts if p.created_at >= visit.started_at)


def check_visit(policy: FatiguePolicy, history: UserHistory, visit: Visit | None, now: float) -> Skip | None:
    """Why the visit forbids a prompt now, or None. visit_cap first: it lasts until the visit ends."""
    if visit is None:
        return None
    if policy.max_prompts_per_visit is not None:
        n = prompts_in(history, visit)
        if n >= policy.max_prompts_per_visit:
            return Skip(VISIT_CAP, f"{n} prompts in this visit, cap is {policy.max_prompts_per_visit} per visit")
    if policy.min_visit_seconds is not None:
        age = max(0.0, now - visit.started_at)
        if age < policy.min_visit_seconds:
            return Skip(VISIT_START, f"visit started {human(age)} ago; no prompt in the first "
                                     f"{human(policy.min_visit_seconds)} of a visit")
    return None
