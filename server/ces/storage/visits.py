"""Visits as the widget reports them (core/visits.py): recorded on hello and on events."""
from __future__ import annotations

from typing import Any, Iterable

from ..core.visits import VISIT_IDLE, Visit
from . import Storage, _in_lists


def touch_visit(storage: Storage, site_id: int, user_id: str, visit_id: str, now: float) -> None:
    """The visit is seen now (created, starting now, the first time)."""
    with storage.write(durable=False) as db:  # a visit is a hint for fatigue, not a record to keep
        db.conn.execute(
            "insert into visits (site_id, user_id, visit_id, started_at, last_seen_at) values (?,?,?,?,?) "
            "on conflict (site_id, user_id, visit_id) do update set last_seen_at = max(last_seen_at, excluded.last_seen_at)",
            (site_id, user_id, visit_id, now, now))


def recent_visits(conn: Any, site_id: int, user_ids: Iterable[str], now: float) -> dict[str, list[Visit]]:
    """Each user's visits seen within VISIT_IDLE (index visits(site_id, user_id, last_seen_at))."""
    out: dict[str, list[Visit]] = {}
    for chunk, marks in _in_lists(list(user_ids)):
        for user_id, visit_id, started, seen in conn.execute(
                f"select user_id, visit_id, started_at, last_seen_at from visits where site_id = ? "
                f"and user_id in ({marks}) and last_seen_at > ?", (site_id, *chunk, now - VISIT_IDLE)):
            out.setdefault(user_id, []).append(Visit(visit_id, started, seen))
    return out
