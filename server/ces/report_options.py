"""What a survey's report can be filtered by: its triggers, locales, variants and event
properties, with the scale of its metric. Shared by the admin API (`GET
/api/v1/surveys/<id>/filters`) and the dashboard's results page (its filter controls).
"""
from __future__ import annotations

from typing import Any

from .core.metrics import get_metric
from .core.report_filters import INTERVALS, OPERATORS
from .reports import default_high_effort_max
from .storage import Storage
from .storage import report_options as sql
from .storage.reports import Reports


def filter_options(storage: Storage, survey: dict[str, Any]) -> dict[str, Any]:
    reports = Reports(storage)
    reports.refresh_rollups()  # so the options cover every answer, as the report does
    metric = get_metric(survey["metric"])
    dims = sql.answer_dimensions(storage, survey["id"])
    return {
        "survey_id": survey["id"], "metric": metric.key, "headline_name": metric.headline_name,
        "scale": {"min": metric.min, "max": metric.max},
        "high_effort_max": default_high_effort_max(metric.key),
        "triggers": reports.survey_triggers(survey["id"]),
        "locales": sorted({d["locale"] for d in dims if d["locale"]}),
        "variants": sorted({d["variant"] for d in dims if d["variant"]}),
        "properties": sql.property_keys(storage, survey["id"]),
        "intervals": list(INTERVALS), "operators": list(OPERATORS),
    }
