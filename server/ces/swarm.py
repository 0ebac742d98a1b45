"""Many widget stand-ins in one gevent process, for the scale-out tests and benchmarks.

`python -m ces.swarm --url ws://host:port/ws --site KEY --count N [--answer]` connects N widgets
(users PREFIX0 … PREFIXN-1) the way ces.js does: hello, welcome, re-sending an answer not yet
acknowledged after every reconnect, reconnecting with a short jittered back-off when the socket
closes. Each widget answers the prompts it gets with --answer. Commands on stdin, one JSON line
each on stdout: `report` prints every widget's record; `quit` ends. Real sockets, real protocol:
only the browser is left out (each socket is a greenlet, so thousands fit in one process).
"""
from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import gevent.pool  # noqa: E402
import simple_websocket  # noqa: E402


class Widget:
    def __init__(self, url: str, site: str, user: str, answer: bool, retry_max: float) -> None:
        self.url, self.site, self.user, self.answer, self.retry_max = url, site, user, answer, retry_max
        self.sockets = 0          # sockets opened that got a welcome
        self.prompts: list[list[Any]] = []  # [socket number, prompt id, received at (epoch s)]
        self.closes: list[list[Any]] = []   # [socket number, prompt id, reason]
        self.unacked: dict[str, dict[str, Any]] = {}  # ref -> answer message, until its ack
        self.acks: list[list[Any]] = []     # [prompt id, status]
        self.errors: list[str] = []         # error codes received
        self.connected = False
        self.stopped = False

    def run(self) -> None:
        tries = 0
        while not self.stopped:
            try:
                ws = simple_websocket.Client.connect(self.url)
            except Exception:
                gevent.sleep(min(self.retry_max, 0.1 * 2 ** tries) * random.uniform(0.5, 1))
                tries += 1
                continue
            try:
                ws.send(json.dumps({"type": "hello", "site": self.site, "user": self.user}))
                while not self.stopped:
                    # No timeout: thousands of idle greenlets waking every second would delay the
                    # very messages whose arrival times are measured. A closed socket raises.
                    raw = ws.receive(timeout=None)
                    if raw is None:
                        break
                    if os.environ.get("CES_SWARM_DEBUG"):
                        print(self.user, raw, file=sys.stderr, flush=True)
                    self._on(ws, json.loads(raw))
                    tries = 0
            except Exception:
                pass
            finally:
                self.connected = False
                try:
                    ws.close()
                except Exception:
                    pass
            if not self.stopped:
                gevent.sleep(min(self.retry_max, 0.1 * 2 ** tries) * random.uniform(0.5, 1))
                tries += 1

    def _on(self, ws: Any, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind == "welcome":
            self.sockets += 1
            self.connected = True
            for pending in self.unacked.values():  # as ces.js: unacked answers go again
                ws.send(json.dumps(pending))
        elif kind == "prompt":
            prompt_id = msg["prompt"]["id"]
            self.prompts.append([self.sockets, prompt_id, time.time()])
            if self.answer and not any(a["prompt"] == prompt_id for a in self.unacked.values()) \
                    and not any(a[0] == prompt_id for a in self.acks):
                ref = f"a-{prompt_id}"
                self.unacked[ref] = {"type": "answer", "id": ref, "prompt": prompt_id, "score": 6}
                ws.send(json.dumps(self.unacked[ref]))
        elif kind == "close":
            self.closes.append([self.sockets, msg["prompt"], msg["reason"]])
        elif kind == "error":
            self.errors.append(msg.get("code"))
        elif kind == "ack" and msg.get("ref") in self.unacked:
            self.unacked.pop(msg["ref"])
            self.acks.append([msg.get("prompt"), msg.get("status")])

    def record(self) -> dict[str, Any]:
        return {"user": self.user, "sockets": self.sockets, "connected": self.connected, "prompts": self.prompts,
                "closes": self.closes, "acks": self.acks, "unacked": len(self.unacked), "errors": self.errors}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", action="append", required=True, help="ws URL (repeat: widgets spread over them)")
    parser.add_argument("--site", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--prefix", default="w")
    parser.add_argument("--answer", action="store_true")
    parser.add_argument("--retry-max", type=float, default=1.0)
    args = parser.parse_args()
    widgets = [Widget(args.url[i % len(args.url)], args.site, f"{args.prefix}{i}", args.answer, args.retry_max)
               for i in range(args.count)]
    starting = gevent.pool.Pool(200)  # connects at most 200 at once, as a crowd of pages would
    for widget in widgets:
        starting.spawn(lambda w=widget: (gevent.spawn(w.run), gevent.sleep(0)))
    starting.join()
    while sum(w.sockets > 0 for w in widgets) < len(widgets):
        gevent.sleep(0.05)
    print(json.dumps({"event": "connected", "n": len(widgets)}), flush=True)
    stdin = gevent.fileobject.FileObject(sys.stdin)  # type: ignore[attr-defined]
    for line in stdin:
        command = line.strip()
        if command == "report":
            print(json.dumps({"event": "report", "widgets": [w.record() for w in widgets]}), flush=True)
        elif command == "quit":
            break
    for widget in widgets:
        widget.stopped = True


if __name__ == "__main__":
    import gevent.fileobject  # noqa: F401,E402
    main()
