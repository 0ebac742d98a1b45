"""Spine benchmark: event → prompt on a socket, with many sockets open; decisions per second.

Runs the production server (`ces serve`: gunicorn, gevent worker) on a free loopback port with
a fresh SQLite file, opens N widget sockets, then:
  * push latency: for S users, the time from starting `POST /api/v1/events` to the prompt
    arriving on that user's socket (the server pushes before it answers the POST), and the
    POST round trip itself;
  * decisions/s: batches of 100 events for fresh users, beside a baseline measured in the same
    run: raw sqlite3 executemany of the same number of rows into an equivalent table.

    .venv/bin/python bench/bench_spine.py --sockets 1000 --samples 300 --batches 50
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from ces.testing import WsClient, ces_serve, http

SITE, SECRET = "site_bench", "sk_bench"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def start_server(db: Path, connections: int) -> tuple[subprocess.Popen, str]:
    return ces_serve(db, connections, env={"CES_BOOTSTRAP_SITE_KEY": SITE, "CES_BOOTSTRAP_SECRET_KEY": SECRET,
                                           "CES_WS_MAX_PER_ADDRESS": "0"})  # every socket comes from 127.0.0.1


def open_sockets(url: str, count: int) -> list[WsClient]:
    clients = []
    for i in range(count):
        client = WsClient(url.replace("http", "ws") + "/ws")
        client.send({"type": "hello", "site": SITE, "user": f"user-{i}"})
        clients.append(client)
    for client in clients:
        client.expect("welcome", timeout=30)
    return clients


def push_latency(url: str, clients: list[WsClient], samples: int) -> tuple[list[float], list[float]]:
    push, round_trip = [], []
    for i in range(samples):
        arrived: list[float] = []
        waiter = threading.Thread(target=lambda c=clients[i]: (c.expect("prompt", timeout=10),
                                                                 arrived.append(time.perf_counter())))
        waiter.start()
        start = time.perf_counter()
        status, body = http("POST", f"{url}/api/v1/events",
                            {"user_id": f"user-{i}", "name": "checkout_completed", "event_id": f"lat-{i}"}, SECRET)
        round_trip.append(time.perf_counter() - start)
        waiter.join(timeout=15)
        assert status == 200 and body["results"][0]["reason"] == "prompted", body
        push.append(arrived[0] - start)
    return push, round_trip


def decisions_per_second(url: str, batches: int) -> tuple[float, list[dict]]:
    payloads = [{"events": [{"user_id": f"batch-{b}-{i}", "name": "checkout_completed", "event_id": f"b-{b}-{i}",
                             "properties": {"order_id": f"o-{b}-{i}", "amount": 10 + i}} for i in range(100)]}
                for b in range(batches)]
    start = time.perf_counter()
    for payload in payloads:
        status, body = http("POST", f"{url}/api/v1/events", payload, SECRET)
        assert status == 200 and len(body["results"]) == 100
    elapsed = time.perf_counter() - start
    return batches * 100 / elapsed, [e for p in payloads for e in p["events"]]


def baseline_rows_per_second(events: list[dict], directory: str) -> float:
    """Raw sqlite3: the same rows, executemany in batches of 100, one commit per batch."""
    conn = sqlite3.connect(os.path.join(directory, "baseline.db"), isolation_level=None)
    conn.execute("pragma journal_mode=wal")
    conn.execute("pragma synchronous=full")
    conn.execute("create table events (id integer primary key, site_id int, event_id text, user_id text, "
                 "name text, properties text, received_at real, decision text, reason text)")
    conn.execute("create unique index ev on events(site_id, event_id)")
    rows = [(1, e["event_id"], e["user_id"], e["name"], json.dumps(e["properties"]), time.time(), "prompt",
             "prompted") for e in events]
    start = time.perf_counter()
    for i in range(0, len(rows), 100):
        conn.execute("begin immediate")
        conn.executemany("insert into events (site_id, event_id, user_id, name, properties, received_at, "
                         "decision, reason) values (?,?,?,?,?,?,?,?)", rows[i:i + 100])
        conn.execute("commit")
    return len(rows) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--batches", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(Path(tmp) / "bench.db", connections=args.sockets + 200)
        try:
            t0 = time.perf_counter()
            clients = open_sockets(url, args.sockets)
            opened = time.perf_counter() - t0
            push, round_trip = push_latency(url, clients, min(args.samples, args.sockets))
            rate, events = decisions_per_second(url, args.batches)
            for client in clients:
                client.close()
        finally:
            proc.terminate()
            proc.wait(timeout=15)
        baseline = baseline_rows_per_second(events, tmp)
    ms = 1000.0
    print(f"sockets open: {args.sockets} (opened in {opened:.1f} s)")
    print(f"push latency, POST start -> prompt on socket: p50 {statistics.median(push) * ms:.2f} ms, "
          f"p99 {pct(push, 99) * ms:.2f} ms (n={len(push)})")
    print(f"POST /api/v1/events round trip: p50 {statistics.median(round_trip) * ms:.2f} ms, "
          f"p99 {pct(round_trip, 99) * ms:.2f} ms")
    print(f"decisions/s, batches of 100 over HTTP: {rate:,.0f}")
    print(f"baseline raw sqlite3 executemany rows/s: {baseline:,.0f}  (ratio decisions/baseline {rate / baseline:.3f})")


if __name__ == "__main__":
    main()
