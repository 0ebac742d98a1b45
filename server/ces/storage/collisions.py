"""The prompts the fatigue diagnostic reads (core/collisions.py): one site's, in a period."""
from __future__ import annotations

from typing import Any, Iterator


def prompt_contacts(storage: Any, site_id: int, start: float, end: float) -> Iterator[tuple[str, int, float]]:
    """(user_id, survey_id, contact time) of the site's prompts whose contact time (shown, else
    created) is in [start, end), sorted by user then time. Cancelled prompts never reached anyone."""
    sql = ("select user_id, survey_id, coalesce(shown_at, created_at) as t from prompts "
           "where site_id = ? and created_at < ? and coalesce(shown_at, created_at) >= ? "
           "and coalesce(shown_at, created_at) < ? and status <> 'cancelled' order by user_id, t")
    for row in storage.all(sql, [site_id, end, start, end]):
        yield row["user_id"], row["survey_id"], row["t"]
