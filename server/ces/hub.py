"""The hub: which websockets are open for which user, so a decision reaches every tab at once.

The registry is guarded by one lock, and each connection has its own send lock: a prompt pushed
from an HTTP request and an ack sent by the socket's own loop never interleave frames. Sends
happen outside the registry lock, so one slow socket never holds up the others.

It also counts every upgraded socket by client address (also those that have not said `hello`
yet), so one address cannot hold all of a process's connections, and it can close them all when
the server stops. A connection is a handful of slots: with 20,000 sockets open per process the
hub's own share must stay small beside what the server pays per socket (docs/benchmarks.md).
"""
from __future__ import annotations

import logging
import threading
import uuid
from typing import Any, Protocol

from .core.compact_json import compact_json

log = logging.getLogger(__name__)


class Socket(Protocol):
    def send(self, data: str) -> None: ...


class Connection:
    __slots__ = ("ws", "session", "site", "user_id", "locale", "alive", "address", "sent", "_send_lock",
                 "__weakref__")

    def __init__(self, ws: Socket, address: str | None = None) -> None:
        self.ws = ws
        self.session = uuid.uuid4().hex
        self.site: dict[str, Any] | None = None
        self.user_id: str | None = None
        self.locale: str | None = None
        self.alive = True
        self.address = address
        # The ids of the prompts this socket was sent and not told closed: a prompt goes to a tab
        # once, whichever doorbell, sweep or reconnect brings it (None until the first one).
        self.sent: set[str] | None = None
        self._send_lock = threading.Lock()

    @property
    def key(self) -> tuple[int, str] | None:
        if self.site is None or self.user_id is None:
            return None
        return (self.site["id"], self.user_id)

    def send(self, message: dict[str, Any]) -> bool:
        """Send one message; False (and the connection marked dead) when the socket is gone."""
        data = compact_json(message)
        with self._send_lock:
            if not self.alive:
                return False
            try:
                self.ws.send(data)
                return True
            except Exception:  # a closed or broken socket: the reader thread will clean up
                self.alive = False
                return False

    def send_prompt(self, prompt_id: str, message: dict[str, Any]) -> bool:
        """Send a prompt unless this socket already has it; True when it was sent now."""
        data = compact_json(message)
        with self._send_lock:
            if not self.alive or (self.sent is not None and prompt_id in self.sent):
                return False
            try:
                self.ws.send(data)
            except Exception:
                self.alive = False
                return False
            if self.sent is None:
                self.sent = set()
            self.sent.add(prompt_id)
            return True

    def forget(self, prompt_id: str) -> bool:
        """The prompt is off this tab (closed); True when it had been sent here."""
        with self._send_lock:
            if self.sent is None or prompt_id not in self.sent:
                return False
            self.sent.discard(prompt_id)
            return True

    def close(self, code: int, reason: str) -> None:
        """Close with a websocket close code; the socket's loop ends at once."""
        with self._send_lock:
            if not self.alive:
                return
            self.alive = False
            try:
                self.ws.close(code, reason)  # type: ignore[attr-defined]
            except Exception:
                pass
        # simple-websocket's close() does not wake a receive() in progress: the loop waiting in it
        # would only notice at its next message or timeout.
        event = getattr(self.ws, "event", None)
        if event is not None:
            event.set()


class Hub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_user: dict[tuple[int, str], set[Connection]] = {}
        self._open: set[Connection] = set()
        self._by_address: dict[str | None, int] = {}
        self._sites: dict[int, dict[str, Any]] = {}

    def accept(self, conn: Connection, max_per_address: int) -> bool:
        """Count a newly upgraded socket; False (not counted) when its address has the most allowed."""
        with self._lock:
            held = self._by_address.get(conn.address, 0)
            if max_per_address and held >= max_per_address:
                return False
            self._by_address[conn.address] = held + 1
            self._open.add(conn)
            return True

    def release(self, conn: Connection) -> None:
        """The socket is gone: forget it everywhere."""
        self.remove(conn)
        with self._lock:
            if conn in self._open:
                self._open.discard(conn)
                left = self._by_address[conn.address] - 1
                if left:
                    self._by_address[conn.address] = left
                else:
                    del self._by_address[conn.address]

    def add(self, conn: Connection, max_per_user: int = 0) -> bool:
        """Index the connection under its user; False when the user has the most sockets allowed."""
        key = conn.key
        if key is None:
            raise ValueError("a connection joins the hub only once it knows its site and user")
        with self._lock:
            conns = self._by_user.setdefault(key, set())
            if max_per_user and len(conns) >= max_per_user and conn not in conns:
                return False
            conns.add(conn)
            return True

    def remove(self, conn: Connection) -> None:
        key = conn.key
        if key is None:
            return
        with self._lock:
            conns = self._by_user.get(key)
            if conns is not None:
                conns.discard(conn)
                if not conns:
                    del self._by_user[key]

    def connections(self, site_id: int, user_id: str) -> list[Connection]:
        with self._lock:
            return list(self._by_user.get((site_id, user_id), ()))

    def send_to_user(self, site_id: int, user_id: str, message: dict[str, Any],
                     exclude: Connection | None = None) -> int:
        """Send to every open socket of the user; the number that took it."""
        sent = 0
        for conn in self.connections(site_id, user_id):
            if conn is not exclude and conn.send(message):
                sent += 1
        return sent

    def users(self) -> dict[tuple[int, str], list[Connection]]:
        """A snapshot of every identified user's open sockets (for the sweep)."""
        with self._lock:
            return {key: list(conns) for key, conns in self._by_user.items()}

    def count(self) -> int:
        with self._lock:
            return sum(len(c) for c in self._by_user.values())

    def count_by_site(self) -> dict[int, int]:
        """{site id: widget sockets that said who they are} (this process's presence row)."""
        counts: dict[int, int] = {}
        with self._lock:
            for (site, _user), conns in self._by_user.items():
                counts[site] = counts.get(site, 0) + len(conns)
        return counts

    def count_site(self, site_id: int) -> int:
        """The widget sockets of one site that said who they are (the dashboard's "connected now")."""
        return self.count_by_site().get(site_id, 0)

    def shared_site(self, site: dict[str, Any]) -> dict[str, Any]:
        """One dict per site for all its sockets: each connection keeps its site, re-read on every
        message, and a private copy of the row (origins, settings, keys) is ~1.5 KB per socket.
        Read-only by convention: connections never change it."""
        known = self._sites.get(site["id"])
        if known == site:
            return known  # type: ignore[return-value]
        self._sites[site["id"]] = site
        return site

    def close_all(self, code: int, reason: str) -> int:
        """Close every open socket (identified or not); how many there were."""
        with self._lock:
            conns = list(self._open)
        for conn in conns:
            conn.close(code, reason)
        return len(conns)
