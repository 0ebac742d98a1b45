"""Reports, lists and exports of one survey: SQL aggregates (storage/reports.py) scored by the core.

Shared by the HTTP API (api/reports.py) and the CLI (`ces report`, `ces export`).
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

from . import audit
from .core import csv_cells, drivers
from .core.compact_json import compact_json
from .core.finite import finite
from .core.metrics import get_metric
from .core.report_filters import FilterError, ReportQuery
from .core.scoring import compare, score_from_distribution
from .core.time_zones import is_utc, iso_local, zone
from .storage import Storage, answer_props
from .storage.reports import EXPORT_COLUMNS, Reports

EPOCH = date(1970, 1, 1)


def default_high_effort_max(metric: str) -> int:
    """High effort = the metric's negative answers: CES 2.0 ≤ 3, 5-point ≤ 2, NPS detractor ≤ 6."""
    return max(get_metric(metric).negative)


def high_effort_max(metric: str, override: int | None) -> int:
    m = get_metric(metric)
    if override is None:
        return default_high_effort_max(metric)
    if not m.min <= override <= m.max:
        raise FilterError("high_effort_max", f"must be on the {m.key} scale, {m.min} to {m.max}")
    return override


def period_start(day: int, interval: str) -> date:
    d = EPOCH + timedelta(days=day)
    if interval == "week":
        return d - timedelta(days=d.weekday())
    if interval == "month":
        return d.replace(day=1)
    return d


def iso(ts: float | None, tz: str | None = None) -> str | None:
    """ISO 8601: UTC with `Z`, or in the time zone `tz` with its offset."""
    if tz and not is_utc(tz):
        return iso_local(ts, tz)
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z")


def _score(metric: str, counts: dict[int, int]) -> dict[str, Any]:
    return score_from_distribution(metric, counts).as_dict()


def _distribution(reports: Reports, survey_id: int, q: ReportQuery) -> dict[int, int]:
    total: dict[int, int] = {}
    for _day, score, n in reports.by_day(q, survey_id):
        total[score] = total.get(score, 0) + n
    return total


def compare_segments(storage: Storage, survey: dict[str, Any], qa: ReportQuery, qb: ReportQuery,
                     now: float) -> dict[str, Any]:
    """Two periods or segments side by side: each score, and b − a with its 95 % interval."""
    metric = survey["metric"]
    reports = Reports(storage)
    storage.expire_due(now)
    reports.refresh_rollups()
    a = score_from_distribution(metric, _distribution(reports, survey["id"], qa))
    b = score_from_distribution(metric, _distribution(reports, survey["id"], qb))
    return {"survey_id": survey["id"], "metric": metric,
            "a": {"filters": qa.describe(), **a.as_dict()}, "b": {"filters": qb.describe(), **b.as_dict()},
            "difference": compare(a, b).as_dict()}


def build_report(storage: Storage, survey: dict[str, Any], q: ReportQuery, now: float) -> dict[str, Any]:
    """Score, funnel, trend, touchpoints and (with `q.driver`) the effort drivers."""
    metric = survey["metric"]
    reports = Reports(storage)
    storage.expire_due(now)
    reports.refresh_rollups()
    triggers = reports.survey_triggers(survey["id"])

    funnel = reports.funnel(q, survey["id"], [t["id"] for t in triggers])
    funnel["response_rate"] = round(100 * funnel["answered"] / funnel["shown"], 2) if funnel["shown"] else None

    periods: dict[date, dict[int, int]] = {}
    per_trigger: dict[int, dict[int, int]] = {}
    starts: dict[int, date] = {}
    trend, driver_rows = _trend_and_driver_rows(reports, survey["id"], q)
    for day, trigger_id, score, n in trend:
        start = starts.get(day)
        if start is None:
            start = starts[day] = period_start(day, q.interval)
        counts = periods.setdefault(start, {})
        counts[score] = counts.get(score, 0) + n
        counts = per_trigger.setdefault(trigger_id, {})
        counts[score] = counts.get(score, 0) + n
    total: dict[int, int] = {}
    for counts in periods.values():
        for score, n in counts.items():
            total[score] = total.get(score, 0) + n
    names = reports.triggers_by_id(sorted(per_trigger))
    touchpoints = []
    for trigger_id in sorted(per_trigger):
        t = names.get(trigger_id, {})
        touchpoints.append({"trigger_id": trigger_id or None, "name": t.get("name"), "event_name": t.get("event_name"),
                            **_score(metric, per_trigger[trigger_id])})

    report: dict[str, Any] = {
        "survey_id": survey["id"], "metric": metric, "headline_name": get_metric(metric).headline_name,
        "filters": q.describe(), "source": _source(reports, survey["id"], q),
        "score": _score(metric, total), "funnel": funnel,
        "over_time": {"interval": q.interval,
                      "periods": [{"start": p.isoformat(), **_score(metric, periods[p])} for p in sorted(periods)]},
        "by_touchpoint": touchpoints, "drivers": None,
        "meta": {"answer_props": _props_meta(reports)},
    }
    if q.driver:
        report["drivers"] = driver_report(survey["metric"], q, driver_rows)
    return report


Rows = list[tuple[Any, ...]]


def _source(reports: Reports, survey_id: int, q: ReportQuery) -> str:
    """What answered the report: the rollups, the report columns, or the base tables (or answer_props)."""
    if reports.rollup_usable(q):
        return "rollup"
    return "columns" if reports.view(q, survey_id) is not None else "base"


def _props_meta(reports: Reports) -> dict[str, Any]:
    """How far the background copy of the answers' properties is (docs/reports.md, "Fast filters"):
    while it is behind, property filters are answered from the base tables (exact, slower)."""
    if reports.props_ready:
        return {"caught_up": True, "answers_behind": 0}
    status = answer_props.status(reports.storage)
    return {"caught_up": status["caught_up"], "answers_behind": status["answers_behind"]}


def _trend_and_driver_rows(reports: Reports, survey_id: int, q: ReportQuery) -> tuple[Rows, Rows]:
    """(day, trigger id, score, n) rows for the trend and touchpoints, and (kind, value, score, n) rows
    for the driver (none without one). On the base tables both come from one scan."""
    if not q.driver:
        return reports.by_day_and_trigger(q, survey_id), []
    if reports.rollup_usable(q) or reports.view(q, survey_id) is not None:
        # the trend from the rollups or the columns, the driver apart
        return reports.by_day_and_trigger(q, survey_id), reports.by_property(q, survey_id, q.driver, q.buckets)
    trend: dict[tuple[int, int, int], int] = {}
    by_value: dict[tuple[str, str, int], int] = {}
    for day, trigger_id, score, kind, value, n in reports.by_day_trigger_and_property(q, survey_id, q.driver, q.buckets):
        trend[day, trigger_id, score] = trend.get((day, trigger_id, score), 0) + n
        if kind is not None:
            by_value[kind, value, score] = by_value.get((kind, value, score), 0) + n
    return [(*k, n) for k, n in trend.items()], [(*k, n) for k, n in by_value.items()]


def driver_report(metric: str, q: ReportQuery, rows: Rows) -> dict[str, Any]:
    """The driver section from (kind, value or bucket label, score, n) rows."""
    bounds = q.buckets or drivers.DEFAULT_BOUNDS
    counts: dict[tuple[str, str], dict[int, int]] = {}
    for kind, value, score, n in rows:
        counts.setdefault((kind, value), {})[score] = n
    ranked = drivers.rank(metric, counts, bounds)
    return {"property": q.driver, "buckets": list(bounds), "values": [r.as_dict() for r in ranked]}


def comments(storage: Storage, survey: dict[str, Any], q: ReportQuery) -> dict[str, Any]:
    """Follow-up texts, newest first: `q.q` searched, `q.scores` (on the survey's scale) kept."""
    m = get_metric(survey["metric"])
    if any(not m.min <= s <= m.max for s in q.scores):
        raise FilterError("score", f"must be on the {m.key} scale, {m.min} to {m.max}")
    rows, total = Reports(storage).comments(q, survey["id"])
    for row in rows:
        row["created_at"] = iso(row["created_at"], q.tz)
    return {"survey_id": survey["id"], "q": q.q, "score": list(q.scores) or None, "page": q.page, "page_size": q.page_size, "total": total,
            "comments": rows}


def at_risk(storage: Storage, survey: dict[str, Any], q: ReportQuery) -> dict[str, Any]:
    threshold = high_effort_max(survey["metric"], q.high_effort_max)
    rows, total = Reports(storage).at_risk(q, survey["id"], threshold)
    users = []
    for row in rows:
        users.append({
            "user_id": row["user_id"], "answer_id": row["answer_id"], "score": row["score"],
            "comment": row["comment"], "answered_at": iso(row["created_at"], q.tz),
            "followed_up_at": iso(row["followed_up_at"], q.tz), "prompt_id": row["prompt_id"],
            "trigger": {"id": row["trigger_id"], "name": row["trigger_name"]}, "locale": row["locale"],
            "event": {"event_id": row["event_id"], "name": row["event_name"],
                      "timestamp": iso(row["event_timestamp"], q.tz), "properties": row["properties"]},
        })
    return {"survey_id": survey["id"], "high_effort_max": threshold, "followed_up": q.followed_up,
            "page": q.page, "page_size": q.page_size, "total": total, "users": users}


def follow_up(storage: Storage, answer_id: int, flag: bool, actor: dict[str, Any], now: float) -> dict[str, Any] | None:
    """Mark an answer as followed up (or undo it with `flag` false), audited; None if no such answer."""
    store = Reports(storage)
    if store.get_answer(answer_id) is None:
        return None
    store.set_followed_up(answer_id, now if flag else None)
    audit.record(storage, actor, "answer.follow_up", f"answer:{answer_id}", {"followed_up": flag})
    answer = store.get_answer(answer_id)
    return {"answer_id": answer_id, "user_id": answer["user_id"],  # type: ignore[index]
            "followed_up_at": iso(answer["followed_up_at"])}  # type: ignore[index]


# -- export ------------------------------------------------------------------------------------

# The export's date columns (answered_at, followed_up_at, prompted_at, shown_at, event_timestamp).
_DATE_COLUMNS = tuple(i for i, c in enumerate(EXPORT_COLUMNS)
                      if c in ("answered_at", "followed_up_at", "prompted_at", "shown_at", "event_timestamp"))


def _in_zone(rows: Iterator[tuple[Any, ...]], tz: str) -> Iterator[tuple[Any, ...]]:
    """Rows with their UTC dates (as SQLite formats them) rewritten in the zone, with its offset."""
    where = zone(tz)
    for row in rows:
        out = list(row)
        for i in _DATE_COLUMNS:
            if out[i]:
                out[i] = datetime.fromisoformat(out[i]).astimezone(where).isoformat(timespec="milliseconds")
        yield tuple(out)


def export_lines(storage: Storage, survey: dict[str, Any], q: ReportQuery, fmt: str) -> Iterator[str]:
    """The export as text pieces (CSV with a header, or one JSON object per line)."""
    rows = Reports(storage).export_rows(q, survey["id"])
    if not is_utc(q.tz):
        rows = _in_zone(rows, q.tz)
    names = EXPORT_COLUMNS[:-1]
    if fmt == "jsonl":
        lines: list[str] = []
        for row in rows:
            # The stored properties are already JSON: spliced in as they are, not parsed again.
            head = json.dumps(dict(zip(names, row)), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
            lines.append(f'{head[:-1]},"properties":{_strict_properties(row[-1])}}}\n')
            if len(lines) == 500:
                yield "".join(lines)
                lines.clear()
        yield "".join(lines)
        return
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(EXPORT_COLUMNS)
    for i, row in enumerate(rows):
        writer.writerow(csv_cells.row(row))  # formula-looking text made inert; numbers untouched
        if i % 500 == 499:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _strict_properties(raw: str | None) -> str:
    """Stored properties as strict JSON: rows an older version stored may hold NaN or Infinity
    (written as null here); anything else is spliced in as stored."""
    if not raw:
        return "null"
    if "NaN" in raw or "Infinity" in raw:
        return compact_json(finite(json.loads(raw)))
    return raw
