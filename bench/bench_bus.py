"""Push latency across processes through the Redis doorbell, the delay a lost doorbell adds, and
decisions per second with one and two worker processes. docs/benchmarks.md has the commands and
the figures.

    .venv/bin/python bench/bench_bus.py --sockets 1000 --samples 200
    .venv/bin/python bench/bench_bus.py --sockets 5000 --samples 200
    .venv/bin/python bench/bench_bus.py --routing          # one channel vs per-user channels
    .venv/bin/python bench/bench_bus.py --decisions 8      # seconds per worker count

Real parts only: a throw-away redis-server, `ces serve` processes on one SQLite file, `ces.swarm`
widgets (user w<i> connected to process i % processes, so the process holding each socket is known).
Latency runs from just before the event's POST to the prompt's arrival at the socket (the decision
and its commit included), for an event posted to the process holding the socket (same-process)
and to another one (cross-process), alternated in one run.
"""
from __future__ import annotations

import argparse
import sqlite3
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "live"))

from ces.testing import post_event_batches  # noqa: E402
from scale_out import SECRET, Cluster, RedisServer, Swarm, post_event  # noqa: E402


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def push_latency(folder: Path, redis: RedisServer, sockets: int, samples: int, processes: int, sweep: float) -> None:
    cluster = Cluster(str(folder / "push.db"), folder, redis.url, sweep)
    cluster.env["CES_WS_MAX_PER_ADDRESS"] = "0"  # every socket comes from the loopback
    servers = cluster.add(processes)
    swarm = Swarm([s.ws_url for s in servers], sockets)
    try:
        swarm.wait_connected(timeout=180)
        posted: dict[str, tuple[str, float]] = {}  # user -> (kind, t0)
        posts: list[float] = []  # the POST's own round trip (decision + commit), ms
        for k in range(samples):
            i = k * (sockets // samples or 1) % sockets
            holder = i % processes
            kind = "same" if k % 2 == 0 else "cross"
            target = servers[holder] if kind == "same" else servers[(holder + 1) % processes]
            t0 = time.time()
            post_event(target.url, f"w{i}")
            posts.append((time.time() - t0) * 1000)
            posted[f"w{i}"] = (kind, t0)
            time.sleep(0.01)
        time.sleep(1.0)
        by_kind: dict[str, list[float]] = {"same": [], "cross": []}
        for w in swarm.report():
            if w["user"] in posted and w["prompts"]:
                kind, t0 = posted[w["user"]]
                by_kind[kind].append((w["prompts"][0][2] - t0) * 1000)
        swept = sum(s.health()["swept"] for s in servers)
        print(f"push latency, {sockets} sockets over {processes} processes ({len(posted)} events, swept {swept}, "
              f"load average {os.getloadavg()[0]:.1f}):")
        print(f"  the POST itself: p50 {pct(posts, 50):.1f} ms  p99 {pct(posts, 99):.1f} ms")
        for kind, values in by_kind.items():
            print(f"  {kind:>5}-process: n={len(values)} p50 {pct(values, 50):.1f} ms  p99 {pct(values, 99):.1f} ms  "
                  f"max {max(values):.1f} ms")

        if sweep > 30:
            return  # (a run to see what the sweep costs the latency: no lost-doorbell phase)
        # A lost doorbell: Redis down, events posted to a process that holds none of the sockets.
        redis.kill()
        time.sleep(0.5)
        delays = []
        for k in range(10):
            i = (k * 7 + 1) % sockets
            if i % processes == 0:
                i += 1
            user = f"w{i}"
            if user in posted:
                continue
            t0 = time.time()
            post_event(servers[0].url, user)
            posted[user] = ("lost", t0)
            time.sleep(0.3)
        time.sleep(sweep + 1)
        for w in swarm.report():
            if posted.get(w["user"], ("",))[0] == "lost" and w["prompts"]:
                delays.append(w["prompts"][0][2] - posted[w["user"]][1])
        print(f"  lost doorbell (Redis down), sweep every {sweep:.1f} s: n={len(delays)} "
              f"mean {statistics.mean(delays):.2f} s  max {max(delays):.2f} s")
        redis.start()
    finally:
        swarm.stop()
        cluster.stop()


def decisions(folder: Path, redis: RedisServer, seconds: float) -> None:
    rates = {}
    for workers in (1, 2):
        db = str(folder / f"decide-{workers}.db")
        cluster = Cluster(db, folder, redis.url, 2.0)
        # The product's per-key limit (100,000 events a minute) is below what is measured here.
        cluster.env["CES_LIMIT_API_EVENTS_PER_KEY"] = "100000000/minute"
        (server,) = cluster.add(1, args=("--workers", str(workers)))
        started = time.monotonic()
        done, errors = post_event_batches(server.url, SECRET, seconds, prefix=f"d{workers}-")
        rates[workers] = done / (time.monotonic() - started)
        cluster.stop()
        assert len(errors) == 0, errors[:3]
        check = sqlite3.connect(db).execute("pragma integrity_check").fetchall()
        assert check == [("ok",)], f"{db} after {workers} workers: {check[:5]}"
    print(f"decisions/s (batches of 50, 4 clients): 1 worker {rates[1]:.0f}, 2 workers {rates[2]:.0f}, "
          f"ratio {rates[2] / rates[1]:.2f}")


def routing(redis: RedisServer, users: int, samples: int) -> None:
    """The two ways to route a doorbell, measured on redis-py directly: one channel that every
    process filters, or a channel per user that only its holder subscribes to."""
    import redis as redis_py
    client = redis_py.Redis.from_url(redis.url)

    def latency(channel_of: "callable", subscribe: list[str]) -> tuple[float, float, float]:
        sub = redis_py.Redis.from_url(redis.url).pubsub(ignore_subscribe_messages=True)
        t = time.perf_counter()
        for start in range(0, len(subscribe), 1000):
            sub.subscribe(*subscribe[start:start + 1000])
        while sub.get_message(timeout=0.01) is not None or False:
            pass
        subscribe_ms = (time.perf_counter() - t) * 1000
        values = []
        for k in range(samples):
            user = f"u{k % users}"
            t0 = time.perf_counter()
            client.publish(channel_of(user), user)
            while True:
                msg = sub.get_message(timeout=1.0)
                if msg and msg["type"] == "message" and msg["data"].decode() == user:
                    break
            values.append((time.perf_counter() - t0) * 1000)
        sub.close()
        return subscribe_ms, pct(values, 50), pct(values, 99)
    one = latency(lambda u: "bench:doorbell", ["bench:doorbell"])
    per_user = latency(lambda u: f"bench:u:{u}", [f"bench:u:u{k}" for k in range(users)])
    print(f"routing, {users} users held, {samples} doorbells:")
    print(f"  one channel:       subscribe {one[0]:.1f} ms   p50 {one[1]:.3f} ms  p99 {one[2]:.3f} ms")
    print(f"  per-user channels: subscribe {per_user[0]:.1f} ms   p50 {per_user[1]:.3f} ms  p99 {per_user[2]:.3f} ms")
    # What one channel costs each process: parsing doorbells for users it does not hold.
    data = b'["0123456789abcdef", 1, ["w123"]]'
    import json
    t = time.perf_counter()
    for _ in range(100_000):
        json.loads(data)
    print(f"  filtering a doorbell not for this process: {(time.perf_counter() - t) * 10:.2f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--sweep", type=float, default=2.0)
    parser.add_argument("--routing", action="store_true")
    parser.add_argument("--decisions", type=float, default=0, help="seconds per worker count (0: skip)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-bus-"))
    redis = RedisServer(folder)
    redis.start()
    try:
        if args.routing:
            routing(redis, args.sockets, args.samples)
        elif args.decisions:
            decisions(folder, redis, args.decisions)
        else:
            push_latency(folder, redis, args.sockets, args.samples, args.processes, args.sweep)
    finally:
        redis.kill()


if __name__ == "__main__":
    main()
