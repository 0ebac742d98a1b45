"""A real server on a free loopback port, and a real websocket client, for tests and benchmarks.

Nothing here is mocked: the app, the SQLite file and the sockets are the product's own. The
only stand-in is the clock, which tests can move forward (waits are measured in days).
"""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import simple_websocket
from werkzeug.serving import WSGIRequestHandler, make_server

from .app import create_app
from .bootstrap import seed_default_site
from .services import Services
from .storage import Storage


class OffsetClock:
    """Real time plus an offset that only grows."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def http(method: str, url: str, body: Any = None, token: str | None = None,
         raw: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """One HTTP request; (status, parsed JSON body or None)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            payload = resp.read()
            status = resp.status
    except urllib.error.HTTPError as err:
        payload, status = err.read(), err.code
    try:
        return status, json.loads(payload) if payload else None
    except ValueError:
        return status, payload


class WsClient:
    """A widget stand-in speaking the protocol over a real websocket."""

    def __init__(self, url: str) -> None:
        self.ws = simple_websocket.Client.connect(url)
        self.backlog: list[dict[str, Any]] = []  # messages skipped by expect(), kept in order

    def send(self, message: dict[str, Any] | str) -> None:
        self.ws.send(message if isinstance(message, str) else json.dumps(message))

    def recv(self, timeout: float = 5.0) -> dict[str, Any] | None:
        if self.backlog:
            return self.backlog.pop(0)
        raw = self.ws.receive(timeout=timeout)
        return None if raw is None else json.loads(raw)

    def expect(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next message of type `kind`, skipping others; AssertionError after `timeout`."""
        for i, msg in enumerate(self.backlog):
            if msg["type"] == kind:
                return self.backlog.pop(i)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            raw = self.ws.receive(timeout=left)
            if raw is None:
                break
            msg = json.loads(raw)
            if msg["type"] == kind:
                return msg
            self.backlog.append(msg)
        raise AssertionError(f"no {kind!r} message within {timeout}s")

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:
            pass


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # keep test output readable
        pass


class LiveServer:
    def __init__(self, db_path: str | Path, **config: Any) -> None:
        self.db_path = str(db_path)
        self.clock = OffsetClock()
        self.services = Services(Storage(self.db_path, "NORMAL"), clock=self.clock)
        self.app = create_app({"DATABASE": self.db_path, "DEMO": True, **config}, services=self.services)
        self.site: dict[str, Any] = seed_default_site(self.services.storage, self.clock())  # type: ignore[assignment]
        self.admin_token = self.services.storage.create_admin_token("tests", self.clock())[1]
        self.survey_id = self.services.storage.one("select id from surveys order by id limit 1")["id"]  # type: ignore[index]
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True,
                                   request_handler=_QuietHandler)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self._clients: list[WsClient] = []
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    # -- HTTP -------------------------------------------------------------------------------
    def post_events(self, body: Any, token: str | None = None, query: str = "") -> tuple[int, Any]:
        return http("POST", f"{self.url}/api/v1/events{query}", body, token or self.site["secret_key"])

    def get(self, path: str, token: str | None = None) -> tuple[int, Any]:
        return http("GET", self.url + path, token=token or self.site["secret_key"])

    def admin(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """A call to the admin API with the admin token."""
        return http(method, self.url + path, body, token=self.admin_token)

    def score(self, survey_id: int | None = None) -> dict[str, Any]:
        status, body = self.get(f"/api/v1/surveys/{survey_id or self.survey_id}/score")
        assert status == 200, body
        return body

    # -- websockets ---------------------------------------------------------------------------
    def ws(self, user: str | None = None, **hello: Any) -> WsClient:
        """A connected client; with `user`, it has sent hello and received welcome."""
        client = WsClient(self.ws_url)
        self._clients.append(client)
        if user is not None:
            client.send({"type": "hello", "site": self.site["site_key"], "user": user, **hello})
            client.expect("welcome")
        return client

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            time.sleep(0.01)

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        self._server.shutdown()
        self._thread.join(timeout=5)
        if self.services.scheduler is not None:
            self.services.scheduler.stop()
