"""What is happening on a site right now: widgets connected, the latest answers.

One service for the admin API (GET /api/v1/sites/{id}/activity) and the dashboard's Overview,
which polls it for its live counter and feed.
"""
from __future__ import annotations

from typing import Any

from .core.metrics import METRICS
from .reports import iso
from .storage.answer_feed import latest_answers

MAX_ANSWERS = 50


def site_activity(services: Any, site: dict[str, Any], limit: int = 10) -> dict[str, Any]:
    """{site_id, connected, answers: newest first, each with its survey and the scale's range}."""
    tz = site.get("time_zone")
    answers = []
    for row in latest_answers(services.storage, site["id"], max(1, min(limit, MAX_ANSWERS))):
        metric = METRICS.get(row["metric"])
        answers.append({"id": row["id"], "survey_id": row["survey_id"], "survey_name": row["survey_name"],
                        "score": row["score"], "scale_min": metric.min if metric else None,
                        "scale_max": metric.max if metric else None, "comment": row["comment"],
                        "user_id": row["user_id"], "created_at": iso(row["created_at"], tz)})
    return {"site_id": site["id"], "connected": services.connected_count(site["id"]), "answers": answers}
