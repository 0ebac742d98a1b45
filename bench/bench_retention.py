"""Retention benchmark: how long the background retention holds the write lock, on a 1M-row database.

Seeds `--events` events (default 1,000,000), one prompt per 4 events and an answer on 60 % of the
prompts, spread over 200 days, so about half of everything is older than the 90-day default.
Then applies the retention (`--answers anonymise` or `delete` after `--answers-days`) exactly as
the server's background job does, while a probe thread makes the small write transactions a
server makes all the time (one row each, through the same Storage and its write lock), and
reports:

* the longest single transaction of the retention (the longest the lock was held by it);
* the probe's write latency during the run against without it (what a request waits).

    .venv/bin/python bench/bench_retention.py [--events 1000000] [--batch 500] [--answers anonymise]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from ces import retention  # noqa: E402
from ces.storage import Storage, erasure  # noqa: E402
from ces.storage.reports import Reports  # noqa: E402

DAY = 86400


def seed(path: str, events: int, now: float, answers_mode: str, answers_days: int) -> Storage:
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    storage = Storage(path, "OFF")
    storage.migrate()
    site = storage.create_site("bench", now)
    storage.set_site_settings(site["id"], {"retention": {"events_days": 90, "answers": answers_mode,
                                                         "answers_days": answers_days}})
    survey = storage.create_survey(site["id"], now, name="bench", metric="ces7")
    triggers = [storage.create_trigger(site["id"], now, name=n, event_name=n, survey_id=survey["id"])["id"]
                for n in ("checkout_completed", "ticket_closed")]
    rng = random.Random(7)
    conn = storage.db.conn
    start = now - 200 * DAY
    chunk = 100_000
    answer_id = 0
    for low in range(0, events, chunk):
        ev, pr, an = [], [], []
        for i in range(low, min(events, low + chunk)):
            t = start + (i / events) * 200 * DAY  # ids grow with time, as in production
            user = f"u{rng.randrange(events // 5)}"
            props = json.dumps({"channel": ("chat", "web")[i % 2], "wait_minutes": i % 30}, separators=(",", ":"))
            if i % 4 == 0:
                pid = f"p_{int(t * 1000):011x}{i:08d}"
                trig = triggers[i % 2]
                ev.append((i + 1, site["id"], f"e{i}", user, "checkout_completed", props, t, t, "backend", "prompt",
                           "prompted", trig, pid))
                status = "answered" if rng.random() < 0.6 else ("dismissed", "expired")[i % 2]
                pr.append((pid, site["id"], user, survey["id"], trig, i + 1, status, "en", t, t, t + 7 * DAY,
                           t + 1, t + 2 if status != "expired" else None, t + 10 if status != "expired" else t + 7 * DAY))
                if status == "answered":
                    answer_id += 1
                    an.append((answer_id, pid, site["id"], survey["id"], user, 1 + i % 7,
                               "slow" if i % 5 == 0 else None, t + 10))
            else:
                ev.append((i + 1, site["id"], f"e{i}", user, "page_viewed", props, t, t, "backend", "skip",
                           "no_trigger", None, None))
        with storage.write(durable=False):
            conn.executemany("insert into events (id, site_id, event_id, user_id, name, properties, timestamp, "
                             "received_at, source, decision, reason, trigger_id, prompt_id) "
                             "values (?,?,?,?,?,?,?,?,?,?,?,?,?)", ev)
            conn.executemany("insert into prompts (id, site_id, user_id, survey_id, trigger_id, event_row, status, "
                             "locale, created_at, deliver_after, expires_at, delivered_at, shown_at, closed_at) "
                             "values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", pr)
            conn.executemany("insert into answers (id, prompt_id, site_id, survey_id, user_id, score, comment, "
                             "created_at) values (?,?,?,?,?,?,?,?)", an)
    reports = Reports(storage)
    reports.rebuild_funnel_rollup()
    reports.refresh_rollups()
    reports.refresh_events()
    conn.execute("create table if not exists bench_probe (id integer primary key, t real)")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    storage.close()
    return Storage(path, "NORMAL")


STEPS = ("anonymise_answers", "delete_answers", "delete_events", "delete_prompts", "delete_traits",
         "delete_deliveries", "expire_due", "erase")


def _step() -> str:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name in STEPS:
            return frame.f_code.co_name
        frame = frame.f_back
    return "?"


class TimedWrites:
    """Wraps `storage.write` to time every transaction made by the calling thread set: the lock is
    held from BEGIN IMMEDIATE to the end of COMMIT. Slow ones are kept with their step and how the
    time splits between the statements and the COMMIT."""

    def __init__(self, storage: Storage) -> None:
        self.storage, self.durations = storage, []
        self.slow: list[tuple[str, float, float]] = []
        self.original = storage.write
        self.threads: set[int] = set()

        @contextmanager
        def timed(durable: bool = True):  # noqa: ANN202
            if threading.get_ident() not in self.threads:
                with self.original(durable) as db:
                    yield db
                return
            with self.original(durable) as db:
                started = time.perf_counter()  # the lock is held from here to the commit below
                yield db
                work = time.perf_counter() - started
            held = time.perf_counter() - started
            self.durations.append(held)
            if held > 0.02:
                self.slow.append((_step(), work * 1e3, (held - work) * 1e3))
        storage.write = timed  # type: ignore[method-assign]


def probe(storage: Storage, stop: threading.Event, latencies: list[float]) -> None:
    """Small write transactions, one after the other, like a server's requests."""
    while not stop.is_set():
        started = time.perf_counter()
        with storage.write(durable=False) as db:
            db.conn.execute("insert into bench_probe (t) values (?)", [started])
        latencies.append(time.perf_counter() - started)
        time.sleep(0.002)
    storage.close()


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=retention.BATCH)
    ap.add_argument("--pause", type=float, default=retention.PAUSE, help="seconds between batches (the job's default)")
    ap.add_argument("--answers", choices=("anonymise", "delete", "keep"), default="anonymise")
    ap.add_argument("--answers-days", type=int, default=120)
    ap.add_argument("--db", default="/tmp/bench_retention.db")
    ap.add_argument("--no-checkpointer", action="store_true", help="diagnosis: stop the Storage's checkpoint thread")
    args = ap.parse_args()

    now = time.time()
    t = time.perf_counter()
    storage = seed(args.db, args.events, now, args.answers, args.answers_days)
    if args.no_checkpointer:
        storage._checkpointer.wrote = lambda: None  # type: ignore[method-assign]
    conn = storage.db.conn
    counts = {n: conn.execute(f"select count(*) from {n}").fetchone()[0] for n in ("events", "prompts", "answers")}
    print(f"seeded {counts} in {time.perf_counter() - t:.1f}s ({Path(args.db).stat().st_size / 1e6:.0f} MB)")

    baseline: list[float] = []
    stop = threading.Event()
    th = threading.Thread(target=probe, args=(storage, stop, baseline))
    th.start()
    time.sleep(3)
    stop.set()
    th.join()

    timed = TimedWrites(storage)
    during: list[float] = []
    stop = threading.Event()
    th = threading.Thread(target=probe, args=(storage, stop, during))
    th.start()
    timed.threads.add(threading.get_ident())
    t = time.perf_counter()
    done = retention.run(storage, now, batch=args.batch, pause=args.pause)
    elapsed = time.perf_counter() - t
    stop.set()
    th.join()

    d = timed.durations
    left = {n: conn.execute(f"select count(*) from {n}").fetchone()[0] for n in ("events", "prompts", "answers")}
    print(f"python {platform.python_version()}, sqlite {__import__('sqlite3').sqlite_version}, "
          f"{os.cpu_count()} CPUs; batch {args.batch}, pause {args.pause}s, answers {args.answers} "
          f"after {args.answers_days} days")
    print(f"retention: {done} in {elapsed:.1f}s, {len(d)} write transactions; left {left}")
    print(f"retention transaction (lock held): median {statistics.median(d) * 1e3:.1f} ms, "
          f"p99 {percentile(d, 0.99) * 1e3:.1f} ms, max {max(d) * 1e3:.1f} ms")
    if timed.slow:
        print("transactions over 20 ms (step, statements ms, commit ms): "
              + ", ".join(f"({st}, {w:.0f}, {c:.0f})" for st, w, c in timed.slow[:12]))
    for name, lat in (("without retention", baseline), ("during retention", during)):
        print(f"probe write {name}: n={len(lat)} median {statistics.median(lat) * 1e3:.2f} ms, "
              f"p99 {percentile(lat, 0.99) * 1e3:.2f} ms, max {max(lat) * 1e3:.1f} ms")

    # One erasure on the same database: the user with the most rows left, in one transaction.
    user, rows = conn.execute("select user_id, count(*) from events group by 1 order by 2 desc limit 1").fetchone()
    timed.durations.clear()
    t = time.perf_counter()
    erased = erasure.erase(storage, 1, user, "bench", now)
    print(f"erasure of the busiest user ({rows} events): {erased['deleted']} in {(time.perf_counter() - t) * 1e3:.1f} ms, "
          f"lock held {max(timed.durations) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
