"""Scores that diverge and effort against loyalty, for customers who answered two surveys of one
site: SQL in storage/insights.py, statistics in core/divergence.py. Used by api/insights.py."""
from __future__ import annotations

from typing import Any

from .core import divergence
from .core.metrics import get_metric
from .core.report_filters import FilterError, ReportQuery
from .reports import iso
from .storage import Storage
from .storage.insights import InsightStore

MAX_DIVERGENT = 200
DAY = 86400


def _other(store: InsightStore, survey: dict[str, Any], raw: Any, name: str = "with") -> dict[str, Any]:
    if raw is None:
        raise FilterError(name, "give the id of the other survey (e.g. the NPS or CSAT survey)")
    try:
        other_id = int(raw)
    except ValueError:
        raise FilterError(name, "expected a survey id") from None
    other = store.survey(other_id) if 0 < other_id < 2**63 else None
    if other is None or other["site_id"] != survey["site_id"]:
        raise FilterError(name, f"no survey {raw} on this survey's site")
    if other["id"] == survey["id"]:
        raise FilterError(name, "must be another survey")
    return other


def _threshold(extras: dict[str, Any]) -> float:
    raw = extras.get("threshold")
    if raw is None:
        return divergence.DEFAULT_THRESHOLD
    try:
        value = float(raw)
    except ValueError:
        raise FilterError("threshold", "expected a number") from None
    if not 0 < value <= 1:
        raise FilterError("threshold", "must be above 0 and at most 1 (a share of the scale)")
    return value


def _pairs(store: InsightStore, survey: dict[str, Any], other: dict[str, Any], q: ReportQuery
           ) -> list[tuple[str, tuple[int, float, int], tuple[int, float, int]]]:
    a = store.latest_answers(survey["id"], q)
    b = store.latest_answers(other["id"], q)
    return [(user, a[user], b[user]) for user in sorted(a.keys() & b.keys())]


def divergence_report(storage: Storage, survey: dict[str, Any], q: ReportQuery) -> dict[str, Any]:
    """Each customer's latest answer to this survey and to `with`: cross table, correlations,
    the customers whose two answers are far apart, and the loyalty shares when `with` is an NPS."""
    store = InsightStore(storage)
    other = _other(store, survey, q.extras.get("with"))
    threshold = _threshold(q.extras)
    ma, mb = get_metric(survey["metric"]), get_metric(other["metric"])
    pairs = _pairs(store, survey, other, q)
    xs = [float(a[0]) for _, a, _ in pairs]
    ys = [float(b[0]) for _, _, b in pairs]
    pearson, spearman = divergence.pearson(xs, ys), divergence.spearman(xs, ys)
    divergent = []
    for user, a, b in pairs:
        gap = divergence.position(mb, b[0]) - divergence.position(ma, a[0])
        if abs(gap) >= threshold:
            divergent.append({"user_id": user, "score": a[0], "answered_at": iso(a[1], q.tz), "answer_id": a[2],
                              "other_score": b[0], "other_answered_at": iso(b[1], q.tz), "other_answer_id": b[2],
                              "gap": round(gap, 4)})
    divergent.sort(key=lambda d: (-abs(d["gap"]), d["user_id"]))
    return {"survey_id": survey["id"], "metric": ma.key, "with": {"survey_id": other["id"], "metric": mb.key,
                                                                   "name": other["name"]},
            "filters": q.describe(), "pairs": len(pairs),
            "cross_table": divergence.cross_table(ma, mb, [(a[0], b[0]) for _, a, b in pairs]),
            "pearson": pearson.as_dict() if pearson else None, "spearman": spearman.as_dict() if spearman else None,
            "threshold": threshold, "divergent_total": len(divergent), "divergent": divergent[:MAX_DIVERGENT]}


def loyalty_report(storage: Storage, survey: dict[str, Any], q: ReportQuery) -> dict[str, Any]:
    """Loyalty among low- and high-effort respondents of this survey: the share of promoters (the
    positive answers of the survey `with`), or of customers who sent the event `event` after
    answering (within `within_days`, default 90) — e.g. a repeat purchase."""
    store = InsightStore(storage)
    effort = get_metric(survey["metric"])
    event, with_ = q.extras.get("event"), q.extras.get("with")
    if (event is None) == (with_ is None):
        raise FilterError("with", "give either `with` (a survey, e.g. NPS: share of promoters) or `event` "
                                  "(an event name, e.g. order_completed: share who sent it after answering)")
    out: dict[str, Any] = {"survey_id": survey["id"], "metric": effort.key, "filters": q.describe()}
    if with_ is not None:
        other = _other(store, survey, with_)
        loyal_metric = get_metric(other["metric"])
        pairs = _pairs(store, survey, other, q)
        flags = [(a[0], b[0] in loyal_metric.positive) for _, a, b in pairs]
        out["measure"] = {"kind": "survey", "survey_id": other["id"], "metric": loyal_metric.key,
                          "loyal": f"positive answers ({', '.join(str(p) for p in sorted(loyal_metric.positive))})"}
    else:
        if not isinstance(event, str) or not 1 <= len(event) <= 200:
            raise FilterError("event", "expected an event name of 1 to 200 characters")
        days = q.extras.get("within_days", "90")
        try:
            within = float(days)
        except ValueError:
            raise FilterError("within_days", "expected a number of days") from None
        if not 0 < within <= 3650:
            raise FilterError("within_days", "must be above 0 and at most 3650")
        latest = store.latest_answers(survey["id"], q)
        loyal = store.users_with_event(survey["site_id"], event, {u: a[1] for u, a in latest.items()}, within * DAY)
        flags = [(a[0], user in loyal) for user, a in latest.items()]
        out["measure"] = {"kind": "event", "event": event, "within_days": within}
    out["respondents"] = len(flags)
    out.update(divergence.share_by_effort(effort, flags))
    return out
