"""The Overview page of a site: each survey's headline score with its interval, n, low-sample
flag, a 12-week trend and response rate (all from `reports.build_report`, the report API's own
service, on the API's default query); widgets connected now and the latest answers, kept live
by static/overview.js polling `live.json` (the same service as GET /api/v1/sites/{id}/activity).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template

from ..activity import site_activity
from ..core.metrics import METRICS
from ..core.report_filters import parse
from ..core.time_zones import site_time_zone, zone
from ..offload import off_loop
from ..reports import build_report
from .access import site_page
from .sparkline import Sparkline, sparkline

WEEKS = 12
METRIC_NAMES = {"ces7": "CES 2.0", "ces5": "5-point CES", "csat5": "CSAT", "nps": "NPS", "ves7": "VES",
                "ease0_10": "Ease 0–10", "ease1_10": "Ease 1–10"}
HEADLINES = {  # how each headline reads: its name and unit
    "ces": ("agree it was easy", "%"), "net_effort": ("net effort", ""), "csat": ("satisfied", "%"),
    "nps": ("NPS", ""), "ves": ("agree", "%"), "mean_ease": ("mean ease", ""),
}


def _services() -> Any:
    return current_app.extensions["ces"]


def _surveys(site: dict[str, Any]) -> list[dict[str, Any]]:
    rows, _ = _services().storage.list_rows("surveys", {"site_id": site["id"]}, 500, 0)
    return rows


def fmt_headline(value: float | None, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "net":
        return f"{value:+.0f}" if abs(value) >= 0.5 else "0"
    if kind == "mean":
        return f"{value:.1f}"
    return f"{value:.0f}"


def _week_starts(today: date) -> list[date]:
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS)]


def survey_card(survey: dict[str, Any], report: dict[str, Any], today: date) -> dict[str, Any]:
    """What one survey's row shows, read off its report (no score computed here)."""
    metric = METRICS[survey["metric"]]
    score = report["score"]
    kind = metric.headline_kind
    label, unit = HEADLINES.get(report["headline_name"], (report["headline_name"], ""))
    ci = score.get("headline_ci")
    by_start = {p["start"]: p for p in report["over_time"]["periods"]}
    weeks = _week_starts(today)
    points = [(i, by_start[w.isoformat()]) for i, w in enumerate(weeks) if w.isoformat() in by_start]
    spark: Sparkline | None = sparkline(
        [(i, p["headline"], (p.get("headline_ci") or {}).get("low"), (p.get("headline_ci") or {}).get("high"))
         for i, p in points if p["n"] and p["headline"] is not None], WEEKS)
    funnel = report["funnel"]
    return {
        "id": survey["id"], "name": survey["name"], "status": survey.get("status"),
        "metric": METRIC_NAMES.get(metric.key, metric.key), "scale": f"{metric.min}–{metric.max}",
        "headline": fmt_headline(score["headline"], kind), "unit": unit, "label": label,
        "ci": None if not ci else f"{fmt_headline(ci['low'], kind)} to {fmt_headline(ci['high'], kind)}{unit}",
        "n": score["n"], "low_sample": score["low_sample"],
        "response_rate": funnel.get("response_rate"), "shown": funnel.get("shown", 0),
        "answered": funnel.get("answered", 0), "spark": spark,
        "trend_label": (f"Weekly {label}, last {WEEKS} weeks: " +
                        ", ".join(f"{fmt_headline(p['headline'], kind)}{unit} (n={p['n']})" for _, p in points)
                        if points else f"No answers in the last {WEEKS} weeks"),
        "first_week": weeks[0], "last_week": weeks[-1],
    }


def overview_cards(site: dict[str, Any]) -> list[dict[str, Any]]:
    services = _services()
    tz = site_time_zone(site)
    query = parse([], (), tz)  # the report API's default: all answers, weekly periods
    now = services.now()
    today = datetime.fromtimestamp(now, zone(tz)).date()
    return [survey_card(s, off_loop(build_report, services.storage, s, query, now), today) for s in _surveys(site)]


@site_page
def overview(site: dict[str, Any]) -> Any:
    activity = site_activity(_services(), site)
    return render_template("dashboard/overview.html", site=site, active="overview",
                           surveys=overview_cards(site), activity=activity, weeks=WEEKS)


@site_page
def live(site: dict[str, Any]) -> Any:
    """The live counter and feed (polled by static/overview.js)."""
    return jsonify(site_activity(_services(), site))


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/sites/<int:site_id>/", "overview", overview)
    bp.add_url_rule("/sites/<int:site_id>/live.json", "live", live)
