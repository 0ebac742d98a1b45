"""SQL of a site's latest answers, newest first (the dashboard's live feed, GET .../activity)."""
from __future__ import annotations

from typing import Any

from . import Storage


def latest_answers(storage: Storage, site_id: int, limit: int) -> list[dict[str, Any]]:
    """The site's `limit` newest answers with their survey's name and metric. By id: answers are
    append-only, so the newest have the highest ids (the primary key serves the order)."""
    return storage.all(
        "select a.id, a.survey_id, s.name as survey_name, s.metric, a.score, a.comment, a.user_id, a.created_at "
        "from answers a join surveys s on s.id = a.survey_id "
        "where a.site_id = ? order by a.id desc limit ?", [site_id, limit])
