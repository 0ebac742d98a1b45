"""Insights benchmark: the driver ranking (every property) and fix-first at 1,000,000 answers × 20
event properties, and the report with and without an event-property filter, in the same run.

Builds the database with bench/bench_report.py's seed (reused as it is when `--db` exists and
holds `--answers` answers):

    .venv/bin/python bench/bench_insights.py [--answers 1000000] [--properties 20] [--db /tmp/bench_insights.db] [--runs 5]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_report import seed  # noqa: E402
from ces import driver_report  # noqa: E402
from ces.core.report_filters import parse  # noqa: E402
from ces.reports import build_report  # noqa: E402
from ces.storage import Storage  # noqa: E402
from ces.storage.reports import Reports  # noqa: E402


def timed(fn, runs: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, min(times) * 1000, result


def existing(path: str, answers: int) -> bool:
    if not os.path.exists(path):
        return False
    try:
        conn = sqlite3.connect(path)
        n = conn.execute("select count(*) from answers").fetchone()[0]
        conn.close()
        return n >= answers
    except sqlite3.Error:
        return False


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--answers", type=int, default=1_000_000)
    ap.add_argument("--properties", type=int, default=20)
    ap.add_argument("--db", default="/tmp/bench_insights.db")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    out: dict = {"answers": args.answers, "properties": args.properties, "python": platform.python_version(),
                 "sqlite": sqlite3.sqlite_version, "cpus": os.cpu_count()}
    if not existing(args.db, args.answers):
        t = time.perf_counter()
        seed(args.db, args.answers, args.properties)
        out["seed_s"] = round(time.perf_counter() - t, 1)
    storage = Storage(args.db, "NORMAL")
    survey = storage.get_survey(1)
    now = time.time()
    t = time.perf_counter()
    storage.expire_due(now)
    Reports(storage).refresh_rollups()  # the one-off build (rollups and answer_props) on a fresh seed
    out["first_refresh_s"] = round(time.perf_counter() - t, 1)

    q = parse([])
    med, low, ranked = timed(lambda: driver_report.ranking(storage, survey, q, now), args.runs)
    out["ranking_median_ms"], out["ranking_min_ms"] = round(med, 1), round(low, 1)
    out["ranking_properties"] = len(ranked["properties"])  # type: ignore[index]
    out["ranking_tests"] = ranked["tests"]  # type: ignore[index]
    out["ranking_top"] = ranked["properties"][0]["key"]  # type: ignore[index]

    med, low, fix = timed(lambda: driver_report.fix_first_items(storage, survey, q, now), args.runs)
    out["fix_first_median_ms"], out["fix_first_min_ms"] = round(med, 1), round(low, 1)
    out["fix_first_items"] = fix["total"]  # type: ignore[index]

    plain = parse([("interval", "week"), ("driver", "transfers")], ("interval", "driver"))
    med, low, report = timed(lambda: build_report(storage, survey, plain, now), args.runs)
    out["report_median_ms"], out["report_min_ms"] = round(med, 1), round(low, 1)
    filtered = parse([("interval", "week"), ("driver", "transfers"), ("properties.channel", "chat")],
                     ("interval", "driver"))
    med, low, freport = timed(lambda: build_report(storage, survey, filtered, now), args.runs)
    out["filtered_report_median_ms"], out["filtered_report_min_ms"] = round(med, 1), round(low, 1)
    out["filtered_report_n"] = freport["score"]["n"]  # type: ignore[index]
    ranged = parse([("interval", "week"), ("driver", "transfers"), ("properties.transfers[gte]", "2")],
                   ("interval", "driver"))
    med, low, rreport = timed(lambda: build_report(storage, survey, ranged, now), args.runs)
    out["filtered_gte_report_median_ms"] = round(med, 1)
    out["filtered_gte_report_n"] = rreport["score"]["n"]  # type: ignore[index]

    # The same filtered report as before answer_props (events' JSON on the base tables), same run.
    props_usable = Reports.__dict__["props_usable"]  # the staticmethod itself
    Reports.props_usable = staticmethod(lambda q: False)  # type: ignore[method-assign]
    try:
        med, low, old = timed(lambda: build_report(storage, survey, filtered, now), max(1, args.runs // 2))
    finally:
        Reports.props_usable = props_usable  # type: ignore[method-assign]
    assert {k: old[k] for k in ("score", "over_time", "by_touchpoint", "drivers")} == \
        {k: freport[k] for k in ("score", "over_time", "by_touchpoint", "drivers")}  # type: ignore[index]
    out["filtered_report_json_path_median_ms"] = round(med, 1)

    # Where the filtered report's time goes.
    reports = Reports(storage)
    trigger_ids = [t["id"] for t in reports.survey_triggers(survey["id"])]
    out["filtered_funnel_ms"] = round(timed(lambda: reports.funnel(filtered, survey["id"], trigger_ids), 3)[0], 1)
    out["filtered_trend_driver_ms"] = round(timed(
        lambda: reports.by_day_trigger_and_property(filtered, survey["id"], "transfers", None), 3)[0], 1)
    out["db_mb"] = round(os.path.getsize(args.db) / 1e6)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
