"""What the report columns' SQL triggers (migration 0910, storage/report_columns.py) cost the
writes they ride on: a prompt inserted (the decision), a prompt closed (the answer), and rows
deleted (erasure, retention), with the triggers and without them, alternated in the same run.

Each round writes ROWS events and open prompts in transactions of 100 (as a batch of decisions
does), closes them as answered with their answer in transactions of 100, seals the columns, then
deletes a user's worth of rows at a time (transactions of 100 rows). Without the triggers = the
same file after dropping them (then they are created again for the next round).

    .venv/bin/python bench/bench_column_triggers.py [--rows 20000] [--rounds 3]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from ces.storage import Storage, report_columns  # noqa: E402

TRIGGERS = ("report_columns_on_close", "report_columns_forget_answer", "report_columns_forget_event",
            "report_columns_forget_prompt")


def round_(storage: Storage, site: int, survey: int, trigger: int, start: int, rows: int) -> dict[str, float]:
    out: dict[str, float] = {}
    t = time.perf_counter()
    for i in range(start, start + rows, 100):
        with storage.write() as db:
            ids = range(i, i + 100)
            db.conn.executemany(
                "insert into events (id, site_id, event_id, user_id, name, properties, timestamp, received_at, source, "
                "decision, reason, trigger_id, prompt_id) values (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(k + 1, site, f"e{k}", f"u{k % 500}", "ticket_closed", '{"channel":"chat","transfers":2}', k, k,
                  "backend", "prompt", "prompted", trigger, f"p{k}") for k in ids])
            db.conn.executemany(
                "insert into prompts (id, site_id, user_id, survey_id, trigger_id, event_row, status, locale, created_at, "
                "deliver_after, expires_at) values (?,?,?,?,?,?,?,?,?,?,?)",
                [(f"p{k}", site, f"u{k % 500}", survey, trigger, k + 1, "issued", "en", k, k, k + 1e9) for k in ids])
    out["insert_us"] = (time.perf_counter() - t) / rows * 1e6
    t = time.perf_counter()
    for i in range(start, start + rows, 100):
        with storage.write() as db:
            ids = range(i, i + 100)
            db.conn.executemany("update prompts set status = 'answered', closed_at = ? where id = ?",
                                [(k + 10, f"p{k}") for k in ids])
            db.conn.executemany("insert into answers (prompt_id, site_id, survey_id, user_id, score, created_at) "
                                "values (?,?,?,?,?,?)", [(f"p{k}", site, survey, f"u{k % 500}", 3, k + 10) for k in ids])
    out["close_us"] = (time.perf_counter() - t) / rows * 1e6
    while report_columns.step(storage, 2_000):
        pass
    t = time.perf_counter()
    for i in range(start, start + rows, 100):
        with storage.write() as db:
            ids = [f"p{k}" for k in range(i, i + 100)]
            marks = ",".join("?" * len(ids))
            db.conn.execute(f"delete from answers where prompt_id in ({marks})", ids)
            db.conn.execute(f"delete from prompts where id in ({marks})", ids)
            db.conn.execute(f"delete from events where prompt_id in ({marks})", ids)
    out["delete_us"] = (time.perf_counter() - t) / rows * 1e6
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    folder = tempfile.mkdtemp(prefix="ces-bench-")
    storage = Storage(f"{folder}/t.db", "NORMAL")
    storage.migrate()
    now = time.time()
    site = storage.create_site("bench", now)["id"]
    survey = storage.create_survey(site, now, name="bench", metric="ces7")["id"]
    trigger = storage.create_trigger(site, now, name="t", event_name="ticket_closed", survey_id=survey)["id"]
    sql = dict(storage.db.conn.execute("select name, sql from sqlite_master where type = 'trigger'").fetchall())
    results: dict[str, list[dict[str, float]]] = {"with": [], "without": []}
    start = 0
    for _ in range(args.rounds):
        for mode in (("with", "without") if _ % 2 == 0 else ("without", "with")):
            with storage.write() as db:
                for name in TRIGGERS:
                    db.conn.execute(f"drop trigger if exists {name}")
                    if mode == "with":
                        db.conn.execute(sql[name])
            results[mode].append(round_(storage, site, survey, trigger, start, args.rows))
            start += args.rows
    out = {"rows": args.rows, "rounds": args.rounds}
    for key in ("insert_us", "close_us", "delete_us"):
        w = statistics.median(r[key] for r in results["with"])
        wo = statistics.median(r[key] for r in results["without"])
        out[key] = {"with": round(w, 1), "without": round(wo, 1), "ratio": round(w / wo, 2),
                    "rounds_with": [round(r[key], 1) for r in results["with"]],
                    "rounds_without": [round(r[key], 1) for r in results["without"]]}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
