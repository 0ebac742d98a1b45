"""The values a survey's report can be filtered by: SQL over the rollups (small tables).

Read after `Reports.refresh_rollups()`, so they cover every answer. Portable SQL (a recursive CTE
walks the distinct property keys by the primary key instead of scanning every rollup row).
"""
from __future__ import annotations

from typing import Any

from . import Storage


def answer_dimensions(storage: Storage, survey_id: int) -> list[dict[str, Any]]:
    """(locale, variant, n) of the survey's answers; '' where a prompt had none."""
    return storage.all(
        "select locale, variant, sum(n) as n from report_answers_daily where survey_id = ? "
        "group by locale, variant order by 3 desc, 1, 2", [survey_id])


def property_keys(storage: Storage, survey_id: int) -> list[str]:
    """The top-level event property keys any answer of the survey carries, by name."""
    rows = storage.all(
        "with recursive k(key) as ("
        " select min(key) from report_props_daily where survey_id = ?"
        " union all"
        " select (select min(key) from report_props_daily where survey_id = ? and key > k.key) from k"
        " where k.key is not null) "
        "select key from k where key is not null", [survey_id, survey_id])
    return [r["key"] for r in rows]

