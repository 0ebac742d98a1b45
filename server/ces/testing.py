"""A real server on a free loopback port, and a real websocket client, for tests and benchmarks.

Nothing here is mocked: the app, the SQLite file and the sockets are the product's own. The
only stand-in is the clock, which tests can move forward (waits are measured in days).
"""
from __future__ import annotations

import base64
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable

import simple_websocket
from werkzeug.serving import WSGIRequestHandler, make_server

from .app import create_app
from .bootstrap import seed_default_site
from .services import Services
from .storage import Storage


def fresh_rows(db: str | Path, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
    """Rows of `sql` read through a NEW connection to `db` (a SQLite file or a PostgreSQL URL):
    what is really committed, not what the server's own connection sees."""
    storage = Storage(str(db))
    try:
        return list(storage.db.execute(sql, list(params)).fetchall())
    finally:
        release(storage)


def fresh_dicts(db: str | Path, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    """fresh_rows() as dicts (column name → raw stored value)."""
    storage = Storage(str(db))
    try:
        return [dict(r) for r in storage.db.query(sql, list(params))]
    finally:
        release(storage)


def release(storage: Storage) -> None:
    """Close what `storage` holds open (this thread's SQLite connection, or PostgreSQL's pool)."""
    storage.shutdown()


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


def free_port() -> int:
    """A TCP port free on the loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(url: str, proc: subprocess.Popen | None = None, timeout: float = 30) -> None:
    """Until `url`/healthz answers 200; AssertionError (the process killed) if it exits or never does."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if http("GET", f"{url}/healthz")[0] == 200:
                return
        except OSError:
            pass
        if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
            if proc is not None:
                proc.kill()
            raise AssertionError(f"{url} did not start")
        time.sleep(0.05)


def ces_serve(db: str | Path, connections: int = 1000, port: int | None = None, env: dict[str, str] | None = None,
              threads: int | None = None, **popen: Any) -> tuple[subprocess.Popen, str]:
    """`ces serve` (the production server) on `db` in a child process, once it answers; and its URL.

    `env` is added to this process's environment; `popen` goes to Popen (output to /dev/null unless
    it says otherwise).
    """
    port = port or free_port()
    connections = threads or connections  # `threads`: the name from before the event-loop worker
    ces = str(Path(sys.executable).with_name("ces"))
    proc = subprocess.Popen([ces, "serve", "--port", str(port), "--db", str(db), "--connections", str(connections)],
                            env={**os.environ, **(env or {})},
                            **{"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, **popen})
    url = f"http://127.0.0.1:{port}"
    wait_until_serving(url, proc)
    return proc, url


class WsClient:
    """A widget stand-in speaking the protocol over a real websocket."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        # `headers`: e.g. {"Origin": ...}, which a browser sends with every upgrade.
        self.ws = simple_websocket.Client.connect(url, headers=headers)
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


def websocket_wire(url: str, text: str, timeout: float = 3.0) -> list[tuple[int, bytes]]:
    """Send `text` as the one message of a hand-made websocket; the frames the server sent back,
    (opcode, payload), until it closed the connection. Raises AssertionError on any byte that is
    not a frame (a browser drops the whole read, messages included, on one such byte)."""
    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
                     f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                     .encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(4096)
        head, data = data.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head
        payload, mask = text.encode(), os.urandom(4)
        length = bytes([0x80 | len(payload)]) if len(payload) < 126 else bytes([0x80 | 126]) + struct.pack(">H", len(payload))
        sock.sendall(b"\x81" + length + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    frames = []
    while data:
        assert data[0] & 0x70 == 0 and data[1] & 0x80 == 0, f"not a server frame: {data[:40]!r}"
        size, at = data[1] & 0x7F, 2
        if size == 126:
            size, at = struct.unpack(">H", data[2:4])[0], 4
        elif size == 127:
            size, at = struct.unpack(">Q", data[2:10])[0], 10
        frames.append((data[0] & 0x0F, data[at:at + size]))
        data = data[at + size:]
    return frames


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # keep test output readable
        pass

    def connection_dropped(self, error: BaseException, environ: dict[str, Any] | None = None) -> None:
        # Without this, werkzeug reads the client's close frame as the next HTTP request and answers
        # it with a 400 on the websocket.
        self.close_connection = True


def _websockets_end_at_the_close_frame(wsgi_app: Callable[..., Any]) -> Callable[..., Any]:
    """Send nothing after a websocket's close frame, as gunicorn (production) does.

    Under werkzeug's server, flask-sock returns an empty "200 OK" that werkzeug writes on the socket
    after the close frame. When Chromium reads the last message, the close frame and those bytes in
    one chunk, it fails the whole chunk ("Invalid frame header") and the message is lost: a widget
    refused with bad_user_hash never saw the refusal and reconnected. Raising ConnectionError is
    werkzeug's way to drop a connection without writing a response.
    """
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        statuses: list[str] = []

        def recording(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, headers, exc_info)

        body = wsgi_app(environ, recording)
        if environ.get("HTTP_UPGRADE", "").lower() == "websocket" and statuses == ["200 OK"]:
            getattr(body, "close", lambda: None)()
            raise ConnectionError("websocket closed")
        return body
    return app


SERVE_POLL = 0.02  # seconds between LiveServer's checks for stop() (see LiveServer.__init__)


class LiveServer:
    def __init__(self, db_path: str | Path, **config: Any) -> None:
        self.db_path = str(db_path)
        self.clock = OffsetClock()
        self.services = Services(Storage(self.db_path, "NORMAL"), clock=self.clock)
        self.app = create_app({"DATABASE": self.db_path, "DEMO": True, **config}, services=self.services)
        # Any origin: the browser tests serve their host pages from other loopback ports.
        self.site: dict[str, Any] = seed_default_site(self.services.storage, self.clock(),  # type: ignore[assignment]
                                                      origins=["*"])
        self.admin_token = self.services.storage.create_admin_token("tests", self.clock())[1]
        self.survey_id = self.services.storage.one("select id from surveys order by id limit 1")["id"]  # type: ignore[index]
        self._server = make_server("127.0.0.1", 0, _websockets_end_at_the_close_frame(self.app), threaded=True,
                                   request_handler=_QuietHandler)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self._clients: list[WsClient] = []
        # serve_forever() notices shutdown() only between select() calls: with the default 0.5 s
        # poll, every stop() waited ~0.5 s (the last request restarts the wait), ~6 min of a run.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": SERVE_POLL},
                                        daemon=True)
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
        self.app.extensions["ces_theme_growth"].stop()
        for client in self._clients:
            client.close()
        self._server.shutdown()
        self._thread.join(timeout=5)
        if self.services.courier is not None:
            self.services.courier.stop()
        self.app.extensions["ces_retention"].stop()
        self.app.extensions["ces_alerts"].stop()
        self.app.extensions["ces_answer_props"].stop()
        release(self.services.storage)


def post_event_batches(url: str, secret: str, seconds: float, clients: int = 4, batch: int = 50,
                       prefix: str = "b") -> tuple[int, list[tuple[int, Any]]]:
    """`clients` threads posting batches of `batch` events (a new user each) to `url` for `seconds`:
    (events acknowledged, the failed responses as (status, body)). A client stops at its first failure."""
    sent, failures = [0], []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(n: int) -> None:
        k = 0
        while time.monotonic() < stop_at and not failures:
            events = [{"user_id": f"{prefix}{n}-{k}-{j}", "name": "page_viewed"} for j in range(batch)]
            status, body = http("POST", url + "/api/v1/events", {"events": events}, secret)
            if status != 200:
                with lock:
                    failures.append((status, body))
                return
            k += 1
            with lock:
                sent[0] += len(events)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sent[0], failures
