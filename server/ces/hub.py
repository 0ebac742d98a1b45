"""The hub: which websockets are open for which user, so a decision reaches every tab at once.

The registry is guarded by one lock, and each connection has its own send lock: a prompt pushed
from an HTTP request thread and an ack sent by the socket's own thread never interleave frames.
Sends happen outside the registry lock, so one slow socket never holds up the others.
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
    def __init__(self, ws: Socket) -> None:
        self.ws = ws
        self.session = uuid.uuid4().hex
        self.site: dict[str, Any] | None = None
        self.user_id: str | None = None
        self.locale: str | None = None
        self.alive = True
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


class Hub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_user: dict[tuple[int, str], set[Connection]] = {}

    def add(self, conn: Connection) -> None:
        key = conn.key
        if key is None:
            raise ValueError("a connection joins the hub only once it knows its site and user")
        with self._lock:
            self._by_user.setdefault(key, set()).add(conn)

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

    def count(self) -> int:
        with self._lock:
            return sum(len(c) for c in self._by_user.values())
