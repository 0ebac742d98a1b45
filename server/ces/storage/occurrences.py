"""How many times a user sent an event: the stored events, for occurrence conditions."""
from __future__ import annotations

from typing import Any


def count_events(conn: Any, site_id: int, user_id: str, name: str, since: float | None) -> int:
    """Events named `name` from this user stored on the site, at or after `since` (their
    timestamp, i.e. when they happened) when given. Read on the batch's own connection, inside
    its write transaction: nobody adds events meanwhile. Index events(site_id, user_id, ...)."""
    sql = "select count(*) from events where site_id = ? and user_id = ? and name = ?"
    params: list[Any] = [site_id, user_id, name]
    if since is not None:
        sql += " and coalesce(timestamp, received_at) >= ?"
        params.append(since)
    return conn.execute(sql, params).fetchone()[0]
