"""The full report at N answers on SQLite and on PostgreSQL, the same data, in the same run.

The data of bench/bench_report.py (answers over a year, 5 triggers, 3 event properties; 1.25
prompts per answer, the rest dismissed, expired or still open), written through the product's
storage into a SQLite file and into a database of a throw-away PostgreSQL cluster. Then, on each:
the rollup build, the full report (funnel, weekly trend, by touchpoint, one driver) as the API
builds it (median of --runs), a report with a property filter (base tables), the report columns
build and filtered reports from them, and the CSV export
(rows/s, the Python process's peak RSS growth: the export streams, memory stays bounded).

    .venv/bin/python bench/bench_report_engines.py [--answers 1000000] [--runs 7]
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from ces.core.report_filters import parse  # noqa: E402
from ces.reports import build_report, export_lines  # noqa: E402
from ces.storage import Storage, report_columns  # noqa: E402
from ces.storage.reports import Reports  # noqa: E402
from ces.testing_pg import PgCluster  # noqa: E402

DAY = 86400
YEAR_START = 1_735_689_600.0
CHANNELS = ("chat", "email", "phone", "web")
NAMES = ("checkout_completed", "ticket_closed", "onboarding_done", "refund_issued", "plan_upgraded")


def seed(storage: Storage, answers: int) -> int:
    storage.migrate()
    now = time.time()
    site = storage.create_site("bench", now)
    survey = storage.create_survey(site["id"], now, name="bench", metric="ces7")
    triggers = [storage.create_trigger(site["id"], now, name=n, event_name=n, survey_id=survey["id"])["id"]
                for n in NAMES]
    rng = random.Random(42)
    prompts = int(answers * 1.25)
    for start in range(0, prompts, 50_000):
        events, prompt_rows, answer_rows = [], [], []
        for i in range(start, min(prompts, start + 50_000)):
            t = YEAR_START + rng.random() * 365 * DAY
            trig = rng.randrange(5)
            transfers = min(int(rng.expovariate(1.0)), 6)
            wait = int(rng.expovariate(1 / 8))
            props = json.dumps({"channel": CHANNELS[rng.randrange(4)], "transfers": transfers, "wait_minutes": wait},
                               separators=(",", ":"))
            pid, user = f"p_{i:08d}", f"u{rng.randrange(200_000)}"
            events.append((i + 1, site["id"], f"e{i}", user, NAMES[trig], props, t, t, "backend", "prompt",
                           "prompted", triggers[trig], pid))
            status = "answered" if i < answers else ("dismissed", "expired", "dismissed", "shown")[i % 4]
            shown = t + 3 if status in ("answered", "dismissed", "shown") else None
            prompt_rows.append((pid, site["id"], user, survey["id"], triggers[trig], i + 1, status,
                                ("en", "fr", "ro")[i % 3], t, t, t + 7 * DAY if status != "shown" else now + 30 * DAY,
                                t + 1, shown, t + 20 if status != "shown" else None))
            if status == "answered":
                ease = 5.6 - 0.45 * transfers - 0.03 * wait - 0.3 * trig + rng.gauss(0, 1.3)
                answer_rows.append((pid, site["id"], survey["id"], user, max(1, min(7, round(ease))),
                                    "It took too long" if rng.random() < 0.05 else None, t + 20))
        with storage.write(durable=False) as db:
            db.conn.executemany("insert into events (id, site_id, event_id, user_id, name, properties, timestamp, "
                           "received_at, source, decision, reason, trigger_id, prompt_id) "
                           "values (?,?,?,?,?,?,?,?,?,?,?,?,?)", events)
            db.conn.executemany("insert into prompts (id, site_id, user_id, survey_id, trigger_id, event_row, status, "
                           "locale, created_at, deliver_after, expires_at, delivered_at, shown_at, closed_at) "
                           "values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", prompt_rows)
            db.conn.executemany("insert into answers (prompt_id, site_id, survey_id, user_id, score, comment, created_at) "
                           "values (?,?,?,?,?,?,?)", answer_rows)
    Reports(storage).rebuild_funnel_rollup()
    storage.db.execute("analyze")
    return survey["id"]


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def measure(storage: Storage, answers: int, runs: int) -> dict[str, Any]:
    t = time.perf_counter()
    survey_id = seed(storage, answers)
    seed_s = time.perf_counter() - t
    survey = storage.get_survey(survey_id)
    now = time.time()
    t = time.perf_counter()
    storage.expire_due(now)
    Reports(storage).refresh_rollups()
    rollup_s = time.perf_counter() - t
    q = parse([("interval", "week"), ("driver", "transfers")], ("interval", "driver"))
    report_s, report = timed(lambda: build_report(storage, survey, q, now), runs)
    assert report["score"]["n"] == answers and report["source"] == "rollup", report["score"]
    q_base = parse([("interval", "week"), ("driver", "transfers"), ("properties.channel", "chat")],
                   ("interval", "driver"))
    base_s, base = timed(lambda: build_report(storage, survey, q_base, now), 1)
    assert base["source"] == "base", base["source"]
    # The report columns (storage/report_columns.py), built as the background job does, then the
    # filtered reports from them.
    t = time.perf_counter()
    while report_columns.step(storage, 2_000):
        pass
    columns_build_s = time.perf_counter() - t
    filtered = {}
    for name, extra in (("channel=chat", [("properties.channel", "chat")]),
                        ("channel[ne]=chat & transfers[gte]=2", [("properties.channel[ne]", "chat"),
                                                                 ("properties.transfers[gte]", "2")]),
                        ("channel=chat, tz=Europe/Paris", [("properties.channel", "chat"), ("tz", "Europe/Paris")])):
        qf = parse([("interval", "week"), ("driver", "transfers"), *extra], ("interval", "driver"))
        cols_s, cols = timed(lambda: build_report(storage, survey, qf, now), runs)
        assert cols["source"] == "columns", cols["source"]
        filtered[name] = {"ms": round(cols_s * 1000, 1), "n": cols["score"]["n"]}
    assert filtered["channel=chat"]["n"] == base["score"]["n"]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    size = sum(len(piece) for piece in export_lines(storage, survey, parse([]), "csv"))
    export_s = time.perf_counter() - t
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    return {"seed_s": round(seed_s, 1), "rollup_build_s": round(rollup_s, 2),
            "report_median_ms": round(report_s * 1000, 1), "report": report["score"],
            "filtered_report_ms": round(base_s * 1000, 1), "filtered_n": base["score"]["n"],
            "columns_build_s": round(columns_build_s, 1), "filtered_from_columns": filtered,
            "export_rows_per_s": round(answers / export_s), "export_mb": round(size / 1e6, 1),
            "export_peak_rss_growth_mb": round(rss_growth / 1024, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--answers", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--engines", default="postgresql,sqlite")
    args = ap.parse_args()
    out: dict[str, Any] = {"answers": args.answers}
    folder = tempfile.mkdtemp(prefix="ces-bench-")
    cluster = PgCluster({"shared_buffers": "256MB", "work_mem": "32MB"}) if "postgresql" in args.engines else None
    try:
        for engine in args.engines.split(","):
            url = f"{folder}/report.db" if engine == "sqlite" else cluster.new_database(migrated=False)  # type: ignore[union-attr]
            storage = Storage(url, "OFF")
            out[engine] = measure(storage, args.answers, args.runs)
            storage.shutdown()
            print(json.dumps({engine: out[engine]}), flush=True)
        same = out.get("sqlite", {}).get("report") == out.get("postgresql", {}).get("report")
        out["same_score_on_both"] = same
        print(json.dumps(out, indent=2))
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
