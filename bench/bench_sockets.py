"""Idle widget sockets per process: server memory per socket, beside two floors in the same run.

For each count of sockets, three servers are started in turn on a free loopback port and hold that
many idle websockets (each sent one message and got its answer: the product's `hello` → `welcome`):
  * product  — `ces serve` (gunicorn, gevent worker, the product's own hub and session per socket);
  * floor    — a minimal flask-sock route under the very same gunicorn settings (ces.server.options);
  * asyncio  — a minimal `websockets` (asyncio) server: the physical floor for Python.
Memory per socket = (server RSS with the sockets open − RSS before) / count, workers included.
At the largest count the product also gets event → prompt latency (POST start → prompt on the
user's socket) for `--samples` users while every other socket stays open.

The idle sockets are held by child processes of this script (asyncio, raw frames, answering the
server's pings), at most 9,000 per child so that no process needs more than its file limit.

    .venv/bin/python bench/bench_sockets.py --counts 5000,10000,19800 --samples 300
    .venv/bin/python bench/bench_sockets.py --slow            # another client during an attack
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SITE, SECRET = "site_bench", "sk_bench"
PER_CLIENT = 9000


def raise_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# -- the idle clients (child processes) ---------------------------------------------------------
def _frame(opcode: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    size = len(payload)
    head = bytes([0x80 | opcode]) + (bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + struct.pack(">H", size))
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def _read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readexactly(2)
    size = head[1] & 0x7F
    if size == 126:
        size = struct.unpack(">H", await reader.readexactly(2))[0]
    elif size == 127:
        size = struct.unpack(">Q", await reader.readexactly(8))[0]
    return head[0] & 0x0F, await reader.readexactly(size)


async def _hold_one(port: int, hello: bytes, opened: asyncio.Queue, stop: asyncio.Event) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                 # What Chromium offers: a server that accepts keeps zlib state per socket.
                 "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head[:80]
    writer.write(_frame(1, hello))
    while True:  # the answer to the one message
        opcode, payload = await _read_frame(reader)
        if opcode == 9:
            writer.write(_frame(10, payload))
        elif opcode == 1:
            break
        elif opcode == 8:
            raise AssertionError(f"closed: {payload!r}")
    await opened.put(1)
    while not stop.is_set():  # idle: only the server's pings, answered
        opcode, payload = await _read_frame(reader)
        if opcode == 9:
            writer.write(_frame(10, payload))
        elif opcode == 8:
            raise AssertionError(f"closed while idle: {payload!r}")


async def _client_main(port: int, count: int, offset: int) -> None:
    opened: asyncio.Queue = asyncio.Queue()
    stop = asyncio.Event()
    tasks = []
    for i in range(count):
        hello = json.dumps({"type": "hello", "site": SITE, "user": f"idle-{offset + i}"}).encode()
        tasks.append(asyncio.create_task(_hold_one(port, hello, opened, stop)))
        if i % 200 == 199:  # open at a pace the server's accept loop keeps up with
            await asyncio.sleep(0.02)
    done = 0
    while done < count:
        try:
            await asyncio.wait_for(opened.get(), timeout=5)
            done += 1
        except asyncio.TimeoutError:
            failed = [t for t in tasks if t.done() and t.exception()]
            if failed:
                print(f"failed {len(failed)} of {count}: {failed[0].exception()!r}", flush=True)
                return
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes stdin
    stop.set()
    failed = [t for t in tasks if t.done() and t.exception()]
    print(f"failed {len(failed)}", flush=True)


def hold_sockets(port: int, count: int) -> list[subprocess.Popen]:
    """Child processes holding `count` idle sockets on `port`, once all are open."""
    children = []
    for offset in range(0, count, PER_CLIENT):
        n = min(PER_CLIENT, count - offset)
        children.append(subprocess.Popen([sys.executable, __file__, "--client", str(port), str(n), str(offset)],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    for child in children:
        line = child.stdout.readline()  # type: ignore[union-attr]
        if line.strip() != "ready":
            raise RuntimeError(f"an idle client failed: {line!r}")
    return children


def release(children: list[subprocess.Popen]) -> None:
    for child in children:
        child.stdin.close()  # type: ignore[union-attr]
    for child in children:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()


# -- servers -------------------------------------------------------------------------------------
FLOOR_APP = """
import sys
from flask import Flask
from flask_sock import Sock
from ces.server import Gunicorn, options, raise_open_file_limit
from ces.ws import without_compression

def load():
    app = Flask("floor")
    app.config["SOCK_SERVER_OPTIONS"] = {"ping_interval": 25}
    sock = Sock(app)

    @sock.route("/ws")
    def echo(ws):
        while True:
            ws.send(ws.receive())

    @app.get("/healthz")
    def healthz():
        return {"ok": True}
    if "--as-shipped" not in sys.argv:  # compression refused, as the product does
        app.wsgi_app = without_compression(app.wsgi_app)
    return app

raise_open_file_limit(25000)
Gunicorn(options("127.0.0.1", int(sys.argv[1]), 25000), load).run()
"""

ASYNCIO_APP = """
import asyncio, logging, resource, sys
from websockets.asyncio.server import serve
logging.disable(logging.CRITICAL)  # a client closing without a close frame is not news here
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

async def echo(ws):
    async for message in ws:
        await ws.send(message)

async def main():
    async with serve(echo, "127.0.0.1", int(sys.argv[1]), ping_interval=25, compression=None, backlog=2048):
        print("serving", flush=True)
        await asyncio.Future()

asyncio.run(main())
"""


def start(kind: str, tmp: str) -> tuple[subprocess.Popen, int]:
    from ces.testing import ces_serve, free_port, wait_until_serving
    if kind == "product":
        proc, url = ces_serve(Path(tmp) / f"bench-{time.monotonic_ns()}.db", connections=25000,
                              env={"CES_BOOTSTRAP_SITE_KEY": SITE, "CES_BOOTSTRAP_SECRET_KEY": SECRET,
                                   "CES_WS_MAX_PER_ADDRESS": "0",
                                   # 20,000 handshakes at once on 2 shared cores: no hello deadline
                                   "CES_WS_HELLO_TIMEOUT": "300",
                                   **json.loads(os.environ.get("CES_BENCH_EXTRA_ENV", "{}"))},
                              stderr=open(Path(tmp) / "server.log", "ab"))
        return proc, int(url.rsplit(":", 1)[1])
    port = free_port()
    if kind == "floor":
        proc = subprocess.Popen([sys.executable, "-c", FLOOR_APP, str(port)], stderr=subprocess.DEVNULL)
        wait_until_serving(f"http://127.0.0.1:{port}", proc)
    else:
        proc = subprocess.Popen([sys.executable, "-c", ASYNCIO_APP, str(port)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "serving"  # type: ignore[union-attr]
    return proc, port


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and its children (gunicorn's master and worker), in KiB."""
    pids, total = {pid}, 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[1]) == pid:
                    pids.add(int(entry))
            except (OSError, IndexError):
                pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def push_latency(url: str, samples: int) -> list[float]:
    """Event → prompt: `samples` users each with one socket open here; POST start → prompt on it."""
    from ces.testing import WsClient, http
    clients = []
    for i in range(samples):
        client = WsClient(url.replace("http", "ws") + "/ws")
        client.send({"type": "hello", "site": SITE, "user": f"sample-{i}"})
        client.expect("welcome", timeout=30)
        clients.append(client)
    push = []
    for i, client in enumerate(clients):
        arrived: list[float] = []
        waiter = threading.Thread(target=lambda c=client: (c.expect("prompt", timeout=10),
                                                           arrived.append(time.perf_counter())))
        waiter.start()
        start_at = time.perf_counter()
        status, body = http("POST", f"{url}/api/v1/events",
                            {"user_id": f"sample-{i}", "name": "checkout_completed", "event_id": f"lat-{i}"}, SECRET)
        waiter.join(timeout=15)
        assert status == 200 and body["results"][0]["reason"] == "prompted", body
        push.append(arrived[0] - start_at)
    for client in clients:
        client.close()
    return push


def measure(kind: str, count: int, samples: int, tmp: str) -> dict[str, Any]:
    proc, port = start(kind, tmp)
    try:
        time.sleep(1.0)
        before = tree_rss_kb(proc.pid)
        t0 = time.perf_counter()
        idle = count - (samples if kind == "product" and samples else 0)
        children = hold_sockets(port, idle)
        opened = time.perf_counter() - t0
        time.sleep(2.0)
        held = tree_rss_kb(proc.pid)
        out: dict[str, Any] = {"kind": kind, "count": count, "opened_s": opened, "rss_before_mb": before / 1024,
                               "rss_mb": held / 1024, "kb_per_socket": (held - before) / idle}
        if kind == "product":  # what the server itself counts: every idle socket said hello and is held
            from ces.testing import http
            out["server_sockets"] = http("GET", f"http://127.0.0.1:{port}/healthz")[1]["sockets"]
        if kind == "product" and samples:
            push = push_latency(f"http://127.0.0.1:{port}", samples)
            out["push_p50_ms"] = statistics.median(push) * 1000
            out["push_p99_ms"] = pct(push, 99) * 1000
        release(children)
        return out
    except Exception:
        log = Path(tmp) / "server.log"
        if log.exists():
            print(log.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def sockets_main(counts: list[int], samples: int) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in counts:
            for kind in ("product", "floor", "asyncio"):
                row = measure(kind, count, samples if count == max(counts) else 0, tmp)
                rows.append(row)
                print(json.dumps(row), flush=True)
    print()
    print("| sockets | product KB/socket | flask-sock floor | asyncio floor | product / flask-sock | product / asyncio |"
          " product RSS |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for count in counts:
        by = {r["kind"]: r for r in rows if r["count"] == count}
        p, f, a = by["product"], by["floor"], by["asyncio"]
        print(f"| {count:,} | {p['kb_per_socket']:.1f} | {f['kb_per_socket']:.1f} | {a['kb_per_socket']:.1f} | "
              f"{p['kb_per_socket'] / f['kb_per_socket']:.2f} | {p['kb_per_socket'] / a['kb_per_socket']:.2f} | "
              f"{p['rss_mb']:.0f} MB |")
    top = [r for r in rows if "push_p50_ms" in r]
    for r in top:
        print(f"\nevent -> prompt with {r['count']:,} sockets open: p50 {r['push_p50_ms']:.2f} ms, "
              f"p99 {r['push_p99_ms']:.2f} ms (n={samples})")


# -- another client during an attack -------------------------------------------------------------
def slow_main(slow: int, seconds: float) -> None:
    """/healthz and event → prompt for an ordinary user while `slow` misbehaving clients and one
    flooding key run, beside the same measures on the idle server in the same run."""
    import socket

    from ces.testing import WsClient, http
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start("product", tmp)
        url = f"http://127.0.0.1:{port}"

        def ordinary(n: int, tag: str) -> tuple[list[float], list[float]]:
            health, push = [], []
            for i in range(n):
                t = time.perf_counter()
                http("GET", url + "/healthz")
                health.append(time.perf_counter() - t)
                client = WsClient(url.replace("http", "ws") + "/ws")
                client.send({"type": "hello", "site": SITE, "user": f"{tag}-{i}"})
                client.expect("welcome", timeout=10)
                t = time.perf_counter()
                http("POST", url + "/api/v1/events", {"user_id": f"{tag}-{i}", "name": "checkout_completed"}, SECRET)
                client.expect("prompt", timeout=10)
                push.append(time.perf_counter() - t)
                client.close()
            return health, push

        try:
            quiet = ordinary(100, "quiet")
            stop = threading.Event()
            held = []
            for i in range(slow):  # a third each: never close, dribble headers, upgrade and stay silent
                s = socket.create_connection(("127.0.0.1", port))
                if i % 3 == 0:
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                elif i % 3 == 1:
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                else:
                    key = base64.b64encode(os.urandom(16)).decode()
                    s.sendall(f"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
                held.append(s)
            flooded = {"requests": 0, "limited": 0}

            def flood() -> None:
                body = {"events": [{"user_id": f"flood-{i}", "name": "page_seen"} for i in range(100)]}
                deadline = time.monotonic() + seconds
                while not stop.is_set() and time.monotonic() < deadline:
                    status, _ = http("POST", url + "/api/v1/events", body, SECRET)
                    flooded["requests"] += 1
                    flooded["limited"] += status == 429

            flooder = threading.Thread(target=flood)
            flooder.start()
            attacked = ordinary(100, "attacked")
            stop.set()
            flooder.join()
            for s in held:
                s.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    ms = 1000
    for name, (health, push) in (("idle server", quiet), (f"{slow} slow clients + a flood", attacked)):
        print(f"{name}: /healthz p50 {statistics.median(health) * ms:.2f} ms p99 {pct(health, 99) * ms:.2f} ms; "
              f"event -> prompt p50 {statistics.median(push) * ms:.2f} ms p99 {pct(push, 99) * ms:.2f} ms")
    print(f"flood: {flooded['requests']} batches of 100 sent, {flooded['limited']} answered 429")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        raise_files()
        asyncio.run(_client_main(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", default="5000,10000,19800",
                        help="socket counts (one process holds at most its open-file limit less a few)")
    parser.add_argument("--samples", type=int, default=300, help="users timed for event -> prompt at the top count")
    parser.add_argument("--slow", action="store_true", help="measure another client during an attack instead")
    parser.add_argument("--slow-clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    raise_files()
    if args.slow:
        slow_main(args.slow_clients, args.seconds)
    else:
        sockets_main([int(c) for c in args.counts.split(",")], args.samples)


if __name__ == "__main__":
    main()
