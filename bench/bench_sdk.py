"""SDK benchmark: what ``track()`` costs the caller, and how fast events reach a local server.

    .venv/bin/python bench/bench_sdk.py            # print the results
    .venv/bin/python bench/bench_sdk.py --write    # and replace the "## SDK" section of docs/benchmarks.md

Servers run in a child process (this script with ``--serve``), so the numbers are those of the
host application's process only: the caller's thread plus the SDK's consumer thread, as in
production where the CES server is elsewhere.

- ``track()`` cost: each call timed with ``perf_counter_ns`` in the caller's thread while the
  consumer thread is sending to a local server; median and p99 (the timer's own cost, measured
  the same way on an empty call, is reported next to it).
- Delivery: N events tracked as fast as possible, then ``flush()``; events/s = N / (time from the
  first ``track()`` to the end of the flush), checked against what the server stored. Against
  the real CES server (``create_app`` with its production defaults, SQLite ``synchronous=FULL``,
  werkzeug ``make_server`` threaded) and against a minimal fake server (the SDK's own ceiling).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "sdk"))

import ces_sdk  # noqa: E402


# -- servers (child process) ------------------------------------------------------------------

def serve_fake() -> None:
    count = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer({"events": count[0]})

        def do_POST(self) -> None:
            doc = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            events = doc.get("events", [])
            count[0] += len(events)
            self._answer({"results": [{"event_id": e["event_id"], "decision": "skip", "reason": "no_trigger",
                                       "detail": "", "prompt_id": None} for e in events]})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(json.dumps({"url": f"http://127.0.0.1:{server.server_address[1]}", "secret_key": "sk_bench"}), flush=True)
    server.serve_forever()


def serve_real(db_path: str) -> None:
    sys.path.insert(0, str(ROOT / "server"))
    import logging

    from werkzeug.serving import WSGIRequestHandler, make_server

    from ces.app import create_app
    from ces.bootstrap import seed_default_site

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    app = create_app({"DATABASE": db_path})
    site = seed_default_site(app.extensions["ces"].storage, time.time())
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    print(json.dumps({"url": f"http://127.0.0.1:{server.server_port}", "secret_key": site["secret_key"],
                      "site_id": site["id"]}), flush=True)
    server.serve_forever()


class Child:
    def __init__(self, kind: str, db_path: str = "") -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, db_path],
                                     stdout=subprocess.PIPE, text=True)
        self.info = json.loads(self.proc.stdout.readline())  # type: ignore[union-attr]
        self.kind, self.db_path = kind, db_path

    def stored(self) -> int:
        if self.kind == "fake":
            with urllib.request.urlopen(self.info["url"] + "/", timeout=10) as answer:
                return json.loads(answer.read())["events"]
        with sqlite3.connect(self.db_path) as db:
            return db.execute("select count(*) from events").fetchone()[0]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# -- measurements -----------------------------------------------------------------------------

def percentile(values: List[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def track_cost(child: Child, calls: int) -> Dict[str, float]:
    client = ces_sdk.Client(child.info["secret_key"], child.info["url"], max_queue_size=calls + 1000)
    now = time.perf_counter_ns
    track = client.track
    for i in range(2000):  # warm up; starts the consumer thread
        track("warm", "page_viewed", {"i": i})
    client.flush(30)
    costs = []
    empty = []
    for i in range(calls):
        props = {"order_id": i, "total": 42.5, "currency": "EUR"}
        t0 = now()
        track(f"user-{i % 500}", "checkout_completed", props)
        t1 = now()
        costs.append(t1 - t0)
        t0 = now()
        t1 = now()
        empty.append(t1 - t0)
    delivered = client.flush(60)
    stats = client.stats.snapshot()
    client.shutdown(5)
    return {"median_us": statistics.median(costs) / 1000, "p99_us": percentile(costs, 0.99) / 1000,
            "max_us": max(costs) / 1000, "timer_us": statistics.median(empty) / 1000,
            "dropped": stats["dropped"], "flushed": delivered}


def delivery(child: Child, events: int, flush_at: int) -> Dict[str, float]:
    before = child.stored()
    client = ces_sdk.Client(child.info["secret_key"], child.info["url"], max_queue_size=events + 1000,
                            flush_at=flush_at)
    started = time.perf_counter()
    for i in range(events):
        client.track(f"user-{i % 1000}", "page_viewed", {"i": i, "total": 42.5})
    enqueued = time.perf_counter()
    ok = client.flush(300)
    elapsed = time.perf_counter() - started
    stats = client.stats.snapshot()
    client.shutdown(5)
    stored = child.stored() - before
    return {"events": events, "flush_at": flush_at, "seconds": elapsed, "per_second": events / elapsed,
            "enqueue_seconds": enqueued - started, "stored": stored, "sent": stats["sent"],
            "requests": stats["requests"], "retries": stats["retries"], "ok": ok}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", nargs=2, metavar=("KIND", "DB"), help=argparse.SUPPRESS)
    parser.add_argument("--calls", type=int, default=50_000, help="track() calls timed (default 50,000)")
    parser.add_argument("--events", type=int, default=20_000, help="events per delivery run (default 20,000)")
    parser.add_argument("--write", action="store_true", help="write the '## SDK' section of docs/benchmarks.md")
    args = parser.parse_args()
    if args.serve:
        kind, db_path = args.serve
        serve_fake() if kind == "fake" else serve_real(db_path)
        return

    with tempfile.TemporaryDirectory() as tmp:
        fake = Child("fake")
        real = Child("real", os.path.join(tmp, "bench.db"))
        try:
            cost_fake = track_cost(fake, args.calls)
            cost_real = track_cost(real, args.calls)
            runs: List[Tuple[str, Dict[str, float]]] = []
            for flush_at in (100, 1000):
                runs.append(("fake", delivery(fake, args.events, flush_at)))
                runs.append(("real", delivery(real, args.events, flush_at)))
        finally:
            fake.stop()
            real.stop()

    for name, cost in (("fake", cost_fake), ("real", cost_real)):
        print(f"track() cost, consumer sending to the {name} server: " + json.dumps(cost))
    for name, run in runs:
        print(f"delivery to the {name} server: " + json.dumps(run))
    section = render(args, cost_fake, cost_real, runs)
    print()
    print(section)
    if args.write:
        write_section(ROOT / "docs" / "benchmarks.md", section)
        print("wrote docs/benchmarks.md")


def render(args: argparse.Namespace, cost_fake: Dict[str, float], cost_real: Dict[str, float],
           runs: List[Tuple[str, Dict[str, float]]]) -> str:
    lines = [
        "## SDK",
        "",
        "Reproduce: `.venv/bin/pip install -e sdk && .venv/bin/python bench/bench_sdk.py --write`",
        f"(Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; "
        f"{time.strftime('%Y-%m-%d')}). The server runs in a child process; the numbers are the "
        "host application's process: caller thread plus the SDK's consumer thread.",
        "",
        f"`track()` cost in the caller's thread ({args.calls:,} calls with 3 properties, consumer "
        "sending meanwhile; target ≤ 10 µs median):",
        "",
        "| consumer sending to | median | p99 | max | timer overhead (median) | dropped |",
        "|---|---|---|---|---|---|",
    ]
    for name, cost in (("fake server", cost_fake), ("real CES server", cost_real)):
        lines.append(f"| {name} | {cost['median_us']:.2f} µs | {cost['p99_us']:.2f} µs | {cost['max_us']:.0f} µs "
                     f"| {cost['timer_us']:.2f} µs | {cost['dropped']} |")
    lines += [
        "",
        f"Delivery: {args.events:,} events tracked as fast as possible, then `flush()`; events/s from the "
        "first `track()` to the end of the flush. Real server: `create_app` with production defaults "
        "(SQLite `synchronous=FULL`, every event gets its decision and is stored), werkzeug threaded "
        "server. Fake: a minimal `http.server` that only counts (the SDK's own ceiling).",
        "",
        "| server | batch size (`flush_at`) | events/s | requests | stored / sent |",
        "|---|---|---|---|---|",
    ]
    by: Dict[Tuple[str, int], Dict[str, float]] = {}
    for name, run in runs:
        by[(name, int(run["flush_at"]))] = run
        lines.append(f"| {name} | {run['flush_at']} | {run['per_second']:,.0f} | {run['requests']} "
                     f"| {run['stored']:,} / {run['sent']:,} |")
    lines.append("")
    ratios = [f"{by[('real', f)]['per_second'] / by[('fake', f)]['per_second']:.2f} at `flush_at={f}`"
              for f in (100, 1000) if ('real', f) in by and ('fake', f) in by]
    lines.append("Real / fake delivery ratio: " + ", ".join(ratios) + " (below 1: the server, not the SDK, "
                 "sets the pace).")
    lines.append("")
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    """Replace the '## SDK' section (up to the next '## ' heading), or append it."""
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    pattern = re.compile(r"^## SDK\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text.rstrip("\n") + "\n")


if __name__ == "__main__":
    main()
