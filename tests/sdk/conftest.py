"""A small real HTTP server on loopback standing for the network and a scripted CES server.

It speaks the events/identify contract of docs/api.md well enough for the SDK's failure tests:
it records every request, can be told to answer the next requests with given statuses (500,
429 + Retry-After, 401...), to hang, or to be down. Tests that need the real server's behaviour
use the ``live_server`` fixture of ``tests/conftest.py`` instead.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Tuple

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeCES:
    """Records requests; answers from ``script`` first, then like the real server."""

    def __init__(self, port: int = 0, secret_key: str = "sk_test") -> None:
        self.secret_key = secret_key
        self.lock = threading.Lock()
        self.requests: List[Dict[str, Any]] = []       # every request, in arrival order
        self.script: List[Tuple[int, Dict[str, str], Any]] = []
        self.events: List[Dict[str, Any]] = []          # accepted events, first copy only
        self.users: List[Dict[str, Any]] = []
        self.seen_ids: Dict[str, int] = {}               # event_id -> times received
        self.hang = threading.Event()                   # set: requests wait for ``release``
        self.release = threading.Event()
        self.received = threading.Condition(self.lock)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if fake.hang.is_set():
                    fake.release.wait(10)
                status, headers, payload = fake.handle(self.path, dict(self.headers), body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def start(self) -> "FakeCES":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def handle(self, path: str, headers: Dict[str, str], body: bytes) -> Tuple[int, Dict[str, str], Any]:
        with self.lock:
            try:
                doc = json.loads(body)
            except ValueError:
                doc = None
            self.requests.append({"path": path, "headers": headers, "json": doc, "at": time.monotonic(),
                                  "size": len(body)})
            self.received.notify_all()
            if self.script:
                return self.script.pop(0)
            if headers.get("Authorization") != f"Bearer {self.secret_key}":
                return 401, {}, {"error": {"code": "unauthorized", "message": "Bad secret key."}}
            if path == "/api/v1/identify":
                self.users.extend(doc["users"])
                return 200, {}, {"users": len(doc["users"])}
            results = []
            for event in doc["events"]:
                event_id = event["event_id"]
                first = event_id not in self.seen_ids
                self.seen_ids[event_id] = self.seen_ids.get(event_id, 0) + 1
                if first:
                    self.events.append(event)
                results.append({"event_id": event_id, "decision": "skip",
                                "reason": "no_trigger" if first else "duplicate_event",
                                "detail": "", "prompt_id": None})
            return 200, {}, {"results": results}

    def wait_for(self, predicate, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        with self.lock:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.received.wait(remaining)
            return True

    def event_requests(self) -> List[Dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["path"] == "/api/v1/events"]


@pytest.fixture
def fake_ces():
    server = FakeCES().start()
    yield server
    server.stop()


@pytest.fixture
def start_fake_ces():
    """``start(port=0)``: a FakeCES listening on ``port`` (for down-then-up tests)."""
    servers: List[FakeCES] = []

    def start(port: int = 0) -> FakeCES:
        server = FakeCES(port=port).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (a server that is down)."""
    return free_port()


@pytest.fixture
def make_client():
    """Build clients with test-speed settings; every one is shut down at the end of the test."""
    from ces_sdk import Client

    clients: List[Client] = []

    def make(url: str, secret_key: str = "sk_test", **options: Any) -> Client:
        settings = dict(flush_interval=0.05, backoff_base=0.02, backoff_max=0.1, timeout=2.0, exit_timeout=2.0)
        settings.update(options)
        client = Client(secret_key, url, **settings)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.shutdown(timeout=1.0)
