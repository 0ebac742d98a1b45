"""Reports under any property filter at 1M answers: the report columns (storage/report_columns.py)
against the paths before them (rollups per property value, answer_props, base tables), same run.

Takes a database of bench/bench_report.py's seed already caught up by bench_filtered_fast.py
(answer_props and the property rollups full), builds the report columns with the background
job's steps (timed: the one-off cost of an upgrade), then times `build_report` for each filter
shape on the columns and on the previous code, checking both give the same report.

    .venv/bin/python bench/bench_columns.py --db /tmp/i15_3.db [--runs 5]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from ces.core.report_filters import parse  # noqa: E402
from ces.reports import build_report  # noqa: E402
from ces.storage import Storage  # noqa: E402
from ces.storage import report_columns  # noqa: E402
from ces.storage.reports import Reports  # noqa: E402
from bench_insights import timed  # noqa: E402

SECTIONS = ("score", "funnel", "over_time", "by_touchpoint", "drivers")
SHAPES: dict[str, list[tuple[str, str]]] = {
    "channel=chat, driver transfers": [("properties.channel", "chat")],
    "transfers[gte]=2": [("properties.transfers[gte]", "2")],
    "two filters: channel=chat & transfers[gte]=2": [("properties.channel", "chat"), ("properties.transfers[gte]", "2")],
    "channel[ne]=chat": [("properties.channel[ne]", "chat")],
    "wait_minutes[exists]=true": [("properties.wait_minutes[exists]", "true")],
    "transfers=2 (number equality)": [("properties.transfers", "2")],
    "transfers[gt]=3 (off the bucket edges)": [("properties.transfers[gt]", "3")],
    "channel=chat, tz=Europe/Paris": [("properties.channel", "chat"), ("tz", "Europe/Paris")],
    "channel=chat, from 2025-03-01T06:00Z (off midnight)": [("properties.channel", "chat"),
                                                            ("from", "2025-03-01T06:00:00Z")],
    "channel=chat, driver wait_minutes buckets 0,5,15,30": [("properties.channel", "chat"),
                                                            ("buckets", "0,5,15,30")],
    "no property filter, tz=America/New_York": [("tz", "America/New_York")],
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--shapes", help="comma-separated indexes of SHAPES to time (default: all; none: '')")
    args = ap.parse_args()
    out: dict = {}
    storage = Storage(args.db, "NORMAL")
    t = time.perf_counter()
    storage.migrate()
    out["migrate_s"] = round(time.perf_counter() - t, 2)
    before = os.path.getsize(args.db)

    # The one-off build, as the background job does it (2,000 rows per transaction).
    t, steps = time.perf_counter(), 0
    while report_columns.step(storage, 2_000):
        steps += 1
    out["build_s"] = round(time.perf_counter() - t, 1)
    out["build_steps"] = steps
    out["segments"] = {k: n for k, n in storage.db.conn.execute(
        "select kind, count(*) from report_segments group by kind").fetchall()}
    out["db_mb_added"] = round((os.path.getsize(args.db) - before) / 1e6)
    out["db_mb"] = round(os.path.getsize(args.db) / 1e6)

    survey = storage.get_survey(1)
    now = time.time()
    view = Reports.view
    picked = list(SHAPES.items())
    if args.shapes is not None:
        picked = [picked[int(i)] for i in args.shapes.split(",") if i]
    for name, extra in picked:
        driver = "wait_minutes" if "driver wait_minutes" in name else "transfers"
        q = parse([("interval", "week"), ("driver", driver), *extra], ("interval", "driver", "buckets"))
        reports = Reports(storage)
        reports.refresh_rollups()
        assert reports.view(q, survey["id"]) is not None, name
        med, low, fast = timed(lambda: build_report(storage, survey, q, now), args.runs)
        tracemalloc.start()
        build_report(storage, survey, q, now)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        Reports.view = lambda self, q, survey_id: None  # type: ignore[method-assign]
        try:
            before_med, _low, old = timed(lambda: build_report(storage, survey, q, now), max(1, args.runs // 2))
        finally:
            Reports.view = view  # type: ignore[method-assign]
        same = all(fast[k] == old[k] for k in SECTIONS)  # type: ignore[index]
        out[name] = {"columns_ms": round(med, 1), "columns_min_ms": round(low, 1), "before_ms": round(before_med, 1),
                     "before_source": old["source"], "speedup": round(before_med / med, 1),  # type: ignore[index]
                     "n": fast["score"]["n"], "peak_mb": round(peak / 1e6, 1), "same_numbers": same}  # type: ignore[index]
        print(name, out[name], flush=True)
    # The driver ranking and fix first under a filter: every top-level property from the columns;
    # and the lists (customers with a high-effort answer read their answers from the columns).
    from ces import driver_report, reports as report_lists, themes
    lists = (("at_risk", lambda s, sv, q, now: report_lists.at_risk(s, sv, q)["total"]),
             ("comments", lambda s, sv, q, now: report_lists.comments(s, sv, q)["total"]),
             ("customers", lambda s, sv, q, now: themes.customers(s, sv, q, None)["total"]))
    for name, fn in (("ranking", driver_report.ranking), ("fix_first", driver_report.fix_first_items), *lists):
        for label, extra in (("channel=chat", [("properties.channel", "chat")]),
                             ("channel[ne]=chat & transfers[gte]=2", [("properties.channel[ne]", "chat"),
                                                                     ("properties.transfers[gte]", "2")])):
            q = parse(extra, ("page_size", "followed_up"))
            med, low, fast = timed(lambda: fn(storage, survey, q, now), args.runs)
            Reports.view = lambda self, q, survey_id: None  # type: ignore[method-assign]
            try:
                before_med, _low, old = timed(lambda: fn(storage, survey, q, now), max(1, args.runs // 2))
            finally:
                Reports.view = view  # type: ignore[method-assign]
            out[f"{name} under {label}"] = {"columns_ms": round(med, 1), "columns_min_ms": round(low, 1),
                                           "before_ms": round(before_med, 1), "speedup": round(before_med / med, 1),
                                           "same_numbers": fast == old}
            print(name, label, out[f"{name} under {label}"], flush=True)
    print(json.dumps(out, indent=2))
    assert all(v["same_numbers"] for v in out.values() if isinstance(v, dict) and "same_numbers" in v), "paths differ"


if __name__ == "__main__":
    main()
