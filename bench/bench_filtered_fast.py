"""Filtered reports at 1M answers, and the start of a large installation upgraded to answer_props.

Takes a database of bench/bench_report.py's seed whose rollups are folded but whose answer_props
and property rollups are empty (the state right after the upgrade; `--prepare SEED` makes it from
a seed-only file), then measures, in the same run:

1. the server's start on it (migrations + create_app) and a filtered report during the catch-up
   (the base tables), with how far the catch-up is;
2. the background job's catch-up (answer_props copy + the funnel's rollups per property value);
3. the reports with `properties.channel=chat` and `properties.transfers[gte]=2` (driver
   `transfers`): the rollups' path, the answer_props path, the base tables' path (the code
   before answer_props), with the funnel / trend / driver parts.

    .venv/bin/python bench/bench_filtered_fast.py --db /tmp/i15_3.db [--prepare /tmp/i15_3_seed.db] [--runs 5]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from ces.answer_props_job import AnswerPropsJob  # noqa: E402
from ces.app import create_app  # noqa: E402
from ces.core.report_filters import parse  # noqa: E402
from ces.reports import build_report  # noqa: E402
from ces.services import Services  # noqa: E402
from ces.storage import Storage  # noqa: E402
from ces.storage import answer_props, prop_rollups  # noqa: E402
from ces.storage.reports import Reports  # noqa: E402
from bench_insights import timed as insights_timed  # noqa: E402


def timed(fn, runs: int) -> tuple[float, float, object]:
    """bench_insights.timed (median and minimum ms, the last result), rounded for the JSON."""
    med, low, result = insights_timed(fn, runs)
    return round(med, 1), round(low, 1), result


def prepare(seed: str, db: str) -> float:
    t = time.perf_counter()
    shutil.copy(seed, db)
    s = Storage(db, "OFF")
    s.migrate()
    s.expire_due(time.time())
    r = Reports(s)
    r.refresh_rollups()  # the answers' rollups (an installation has them); answer_props: too far behind
    r.refresh_events()
    assert not r.props_ready
    s.db.conn.execute("analyze")
    s.close()
    return time.perf_counter() - t


QUERIES = {
    "chat": [("interval", "week"), ("driver", "transfers"), ("properties.channel", "chat")],
    "transfers_gte_2": [("interval", "week"), ("driver", "transfers"), ("properties.transfers[gte]", "2")],
}
SECTIONS = ("score", "funnel", "over_time", "by_touchpoint", "drivers")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--prepare", help="a seed-only file to copy to --db first")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    out: dict = {}
    if args.prepare:
        out["prepare_s"] = round(prepare(args.prepare, args.db), 1)

    # 1. The start: migrations and the app, on a database whose answer_props is empty.
    t = time.perf_counter()
    storage = Storage(args.db, "NORMAL")
    services = Services(storage)
    # The background jobs off: the catch-up is run below, and the retention would delete the 2025
    # seed's old events (which the rollups keep counting, docs/privacy.md, the base tables not).
    app = create_app({"DATABASE": args.db, "ANSWER_PROPS_INTERVAL": 0, "RETENTION_INTERVAL": 0,
                      "ALERTS_INTERVAL": 0, "THEME_GROWTH_INTERVAL": 0}, services=services)
    out["server_start_s"] = round(time.perf_counter() - t, 2)
    with app.test_client() as client:
        health = client.get("/healthz").get_json()
    out["healthz_answer_props"] = health["answer_props"]
    survey = storage.get_survey(1)
    now = time.time()
    queries = {k: parse(v, ("interval", "driver")) for k, v in QUERIES.items()}
    if not health["answer_props"]["caught_up"]:
        med, _low, during = timed(lambda: build_report(storage, survey, queries["chat"], now), 1)
        out["chat_report_during_catch_up_ms"] = med
        out["chat_report_during_catch_up_meta"] = during["meta"]  # type: ignore[index]

        # 2. The background job's catch-up (what it does after the start, in short transactions).
        job = AnswerPropsJob(storage, interval=0)
        t = time.perf_counter()
        job.run_once()
        out["job_catch_up_s"] = round(time.perf_counter() - t, 1)
        out["answer_props_rows"] = storage.one("select count(*) as n from answer_props")["n"]  # type: ignore[index]
        storage.db.conn.execute("analyze")
    assert answer_props.behind(storage.db.conn) == 0 and prop_rollups.behind(storage.db.conn) == 0

    # 3. The filtered reports: rollups, answer_props, base tables (same run).
    reports = Reports(storage)
    trigger_ids = [t["id"] for t in reports.survey_triggers(survey["id"])]
    cells = Reports.__dict__["cells"]
    props_usable = Reports.__dict__["props_usable"]
    for name, q in queries.items():
        assert Reports.cells(q) is not None, name
        med, low, fast = timed(lambda: build_report(storage, survey, q, now), args.runs)
        out[f"{name}_rollups_ms"], out[f"{name}_rollups_min_ms"] = med, low
        out[f"{name}_n"] = fast["score"]["n"]  # type: ignore[index]
        r = Reports(storage)
        out[f"{name}_part_funnel_ms"] = timed(lambda: r.funnel(q, survey["id"], trigger_ids), 3)[0]
        out[f"{name}_part_trend_ms"] = timed(lambda: r.by_day_and_trigger(q, survey["id"]), 3)[0]
        out[f"{name}_part_driver_ms"] = timed(lambda: r.by_property(q, survey["id"], "transfers", None), 3)[0]
        Reports.cells = staticmethod(lambda q: None)  # type: ignore[method-assign]
        try:
            med, _low, props = timed(lambda: build_report(storage, survey, q, now), max(1, args.runs // 2))
            out[f"{name}_answer_props_ms"] = med
            Reports.props_usable = lambda self, q: False  # type: ignore[method-assign]
            med, _low, base = timed(lambda: build_report(storage, survey, q, now), max(1, args.runs // 2))
            out[f"{name}_base_tables_ms"] = med
        finally:
            Reports.cells, Reports.props_usable = cells, props_usable  # type: ignore[method-assign]
        out[f"{name}_same_numbers"] = all(fast[k] == props[k] == base[k] for k in SECTIONS)  # type: ignore[index]
        out[f"{name}_speedup_over_base"] = round(out[f"{name}_base_tables_ms"] / out[f"{name}_rollups_ms"], 1)
    out["db_mb"] = round(os.path.getsize(args.db) / 1e6)
    print(json.dumps(out, indent=2))
    assert all(v for k, v in out.items() if k.endswith("_same_numbers")), "the paths differ"


if __name__ == "__main__":
    main()
