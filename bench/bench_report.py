"""Report benchmark: 1,000,000 answers over a year, 5 triggers, 3 event properties.

Measures the full report (funnel, weekly trend, by touchpoint, one driver) as the API builds it,
beside the same aggregates as one raw SQL query over the base tables, on the same file in the
same run. Also: the one-off rollup build, the report on a filter the rollups cannot answer, and
the export rate.

    .venv/bin/python bench/bench_report.py [--answers 1000000] [--db /tmp/bench_report.db] [--runs 7]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from ces.core.report_filters import parse  # noqa: E402
from ces.reports import build_report, export_lines  # noqa: E402
from ces.storage import Storage  # noqa: E402
from ces.storage.reports import Reports  # noqa: E402

DAY = 86400
YEAR_START = 1_735_689_600.0  # 2025-01-01T00:00:00Z
CHANNELS = ("chat", "email", "phone", "web")


def extra_properties(rng: random.Random, count: int) -> dict[str, object]:
    """`count` more properties with no effect on the score: the operational measures the docs name
    (`repeat_contacts`, `channel_switches`, `wait_seconds`), then `p04`, `p05`, … alternating
    between a text of 2 to 6 values and a small count."""
    out: dict[str, object] = {}
    for k in range(count):
        if k == 0:
            out["repeat_contacts"] = min(int(rng.expovariate(1.5)), 5)
        elif k == 1:
            out["channel_switches"] = min(int(rng.expovariate(2.0)), 4)
        elif k == 2:
            out["wait_seconds"] = int(rng.expovariate(1 / 300))
        elif k % 2:
            out[f"p{k + 1:02d}"] = "abcdef"[rng.randrange(2 + k % 5)]
        else:
            out[f"p{k + 1:02d}"] = rng.randrange(1 + k)
    return out


def seed(path: str, answers: int, properties: int = 3) -> tuple[Storage, int]:
    if os.path.exists(path):
        os.remove(path)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    storage = Storage(path, "OFF")
    storage.migrate()
    now = time.time()
    site = storage.create_site("bench", now)
    survey = storage.create_survey(site["id"], now, name="bench", metric="ces7")
    triggers = [storage.create_trigger(site["id"], now, name=name, event_name=name, survey_id=survey["id"])["id"]
                for name in ("checkout_completed", "ticket_closed", "onboarding_done", "refund_issued", "plan_upgraded")]
    rng = random.Random(42)
    prompts = int(answers * 1.25)  # the rest dismissed, expired or still open
    conn = storage.db.conn
    chunk = 100_000
    for start in range(0, prompts, chunk):
        events, prompt_rows, answer_rows = [], [], []
        for i in range(start, min(prompts, start + chunk)):
            t = YEAR_START + rng.random() * 365 * DAY
            trig = rng.randrange(5)
            transfers = min(int(rng.expovariate(1.0)), 6)
            wait = int(rng.expovariate(1 / 8))
            channel = CHANNELS[rng.randrange(4)]
            props = json.dumps({"channel": channel, "transfers": transfers, "wait_minutes": wait,
                                **extra_properties(rng, properties - 3)}, separators=(",", ":"))
            pid = f"p_{i:08d}"
            user = f"u{rng.randrange(200_000)}"
            events.append((i + 1, site["id"], f"e{i}", user, ("checkout_completed", "ticket_closed", "onboarding_done",
                           "refund_issued", "plan_upgraded")[trig], props, t, t, "backend", "prompt", "prompted",
                           triggers[trig], pid))
            if i < answers:
                status = "answered"
            else:
                status = ("dismissed", "expired", "dismissed", "shown")[i % 4]
            shown = t + 3 if status in ("answered", "dismissed", "shown") else None
            prompt_rows.append((pid, site["id"], user, survey["id"], triggers[trig], i + 1, status,
                                ("en", "fr", "ro")[i % 3], t, t, t + 7 * DAY if status != "shown" else now + 30 * DAY,
                                t + 1, shown, t + 20 if status != "shown" else None))
            if status == "answered":
                # Effort rises with transfers and waiting; checkout is easiest.
                ease = 5.6 - 0.45 * transfers - 0.03 * wait - 0.3 * trig + rng.gauss(0, 1.3)
                answer_rows.append((pid, site["id"], survey["id"], user, max(1, min(7, round(ease))),
                                    "It took too long" if rng.random() < 0.05 else None, t + 20))
        conn.execute("begin")
        conn.executemany("insert into events (id, site_id, event_id, user_id, name, properties, timestamp, received_at, "
                         "source, decision, reason, trigger_id, prompt_id) values (?,?,?,?,?,?,?,?,?,?,?,?,?)", events)
        conn.executemany("insert into prompts (id, site_id, user_id, survey_id, trigger_id, event_row, status, locale, "
                         "created_at, deliver_after, expires_at, delivered_at, shown_at, closed_at) "
                         "values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", prompt_rows)
        conn.executemany("insert into answers (prompt_id, site_id, survey_id, user_id, score, comment, created_at) "
                         "values (?,?,?,?,?,?,?)", answer_rows)
        conn.execute("commit")
    Reports(storage).rebuild_funnel_rollup()  # prompts were inserted already closed
    conn.execute("analyze")
    return storage, survey["id"]


RAW_SQL = """
with f as (
  select count(*) as issued,
         sum(delivered_at is not null or shown_at is not null or status in ('shown','answered','dismissed')) as delivered,
         sum(shown_at is not null or status in ('answered','dismissed')) as shown,
         sum(status = 'answered') as answered, sum(status = 'dismissed') as dismissed,
         sum(status = 'expired') as expired
  from prompts where survey_id = :s),
m as (select count(*) as matched from events where trigger_id in (select id from triggers where survey_id = :s)),
base as (
  select a.score, a.created_at, p.trigger_id, e.properties
  from answers a join prompts p on p.id = a.prompt_id join events e on e.id = p.event_row
  where a.survey_id = :s)
select 'funnel', json_object('matched', (select matched from m), 'issued', issued, 'delivered', delivered,
       'shown', shown, 'answered', answered, 'dismissed', dismissed, 'expired', expired), null, null from f
union all
select 'week', cast((cast(created_at / 86400 as integer) + 3) / 7 as integer), score, count(*) from base group by 2, 3
union all
select 'trigger', trigger_id, score, count(*) from base group by 2, 3
union all
select 'driver', json_extract(properties, '$.transfers'), score, count(*) from base group by 2, 3
"""


def timed(fn, runs: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--answers", type=int, default=1_000_000)
    ap.add_argument("--db", default="/tmp/bench_report.db")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--properties", type=int, default=3, help="event properties per event (3 or more)")
    args = ap.parse_args()

    t = time.perf_counter()
    storage, survey_id = seed(args.db, args.answers, max(3, args.properties))
    seed_s = time.perf_counter() - t
    storage = Storage(args.db, "NORMAL")
    survey = storage.get_survey(survey_id)
    now = time.time()

    t = time.perf_counter()
    storage.expire_due(now)
    Reports(storage).refresh_rollups()
    rollup_s = time.perf_counter() - t

    q = parse([("interval", "week"), ("driver", "transfers")], ("interval", "driver"))
    report_med, report_min, report = timed(lambda: build_report(storage, survey, q, now), args.runs)
    raw_med, raw_min, raw_rows = timed(lambda: storage.db.conn.execute(RAW_SQL, {"s": survey_id}).fetchall(), args.runs)

    # Same numbers both ways.
    answered = sum(n for kind, _, _, n in raw_rows if kind == "week")  # type: ignore[misc]
    assert report["score"]["n"] == answered == args.answers, (report["score"]["n"], answered)
    assert report["source"] == "rollup"

    q_base = parse([("interval", "week"), ("driver", "transfers"), ("properties.channel", "chat")],
                   ("interval", "driver"))
    base_med, _, base_report = timed(lambda: build_report(storage, survey, q_base, now), 3)

    # Incremental refresh after 1,000 more answers arrive (the steady state).
    extra_start = time.perf_counter()
    conn = storage.db.conn
    conn.execute("begin")
    conn.execute("insert into answers (prompt_id, site_id, survey_id, user_id, score, created_at) "
                 "select id, site_id, survey_id, user_id, 4, created_at + 30 from prompts where status = 'shown' "
                 "limit 1000")
    conn.execute("update prompts set status = 'answered' where id in (select prompt_id from answers "
                 "order by id desc limit 1000)")
    conn.execute("commit")
    seeded_extra = time.perf_counter() - extra_start
    t = time.perf_counter()
    build_report(storage, survey, q, now)
    after_1k = time.perf_counter() - t

    t = time.perf_counter()
    size = sum(len(piece) for piece in export_lines(storage, survey, parse([]), "csv"))
    export_s = time.perf_counter() - t

    out = {
        "answers": args.answers, "python": platform.python_version(), "cpus": os.cpu_count(),
        "seed_s": round(seed_s, 1), "rollup_build_s": round(rollup_s, 2),
        "report_median_ms": round(report_med * 1000, 1), "report_min_ms": round(report_min * 1000, 1),
        "raw_sql_median_ms": round(raw_med * 1000, 1), "raw_sql_min_ms": round(raw_min * 1000, 1),
        "ratio_report_over_raw": round(report_med / raw_med, 3),
        "report_base_tables_chat_filter_ms": round(base_med * 1000, 1),
        "base_report_n": base_report["score"]["n"],
        "report_after_1000_new_answers_ms": round(after_1k * 1000, 1),
        "export_csv_s": round(export_s, 1), "export_csv_rows_per_s": round((args.answers + 1000) / export_s),
        "export_csv_mb": round(size / 1e6, 1), "db_mb": round(os.path.getsize(args.db) / 1e6),
        "seeded_extra_s": round(seeded_extra, 2),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
