"""The doorbell between server processes: "user U of site S has something to receive".

The database is the source of truth (a prompt is durable the moment it is decided, an answer the
moment it is acked); the bus only says whom to look at. The process holding U's sockets reads what
is due from the database and sends it (`delivery.Courier.reconcile`). A doorbell carries nothing
else, so a lost, late or doubled one changes nothing but timing: every process also sweeps for what
its users were not sent (`delivery.Sweeper`), and a tab is never sent the same prompt twice.

Two back ends, one shape (as python-socketio's pub/sub managers: the logic in one place, the
broker behind `ring` and a listener):
- `LocalBus`: one process, no broker. The default, and what tests of one server use.
- `bus_redis.RedisBus`: every process of every machine, through Redis pub/sub (`CES_REDIS_URL`).
"""
from __future__ import annotations

from typing import Callable, Protocol, Sequence

# (site_id, user_ids): reconcile these users' sockets held here
Handler = Callable[[int, Sequence[str]], None]


class Bus(Protocol):
    def start(self, handler: Handler) -> None:
        """Begin delivering doorbells (this process's own included) to `handler`."""

    def ring(self, site_id: int, user_ids: Sequence[str]) -> None:
        """Tell every process that these users have something to receive (one message a batch). Never raises, never blocks
        for long: a broker that is down means the sweep delivers instead."""

    @property
    def shared(self) -> bool:
        """True when doorbells reach other processes (a broker is configured)."""

    @property
    def up(self) -> bool:
        """False while the broker cannot be reached (doorbells then only ring in this process)."""

    def stop(self) -> None: ...


class LocalBus:
    """Doorbells for this process only: the handler is called at once, in the ringing thread."""

    shared = False
    up = True

    def __init__(self) -> None:
        self._handler: Handler | None = None

    def start(self, handler: Handler) -> None:
        self._handler = handler

    def ring(self, site_id: int, user_ids: Sequence[str]) -> None:
        if self._handler is not None:
            self._handler(site_id, user_ids)

    def stop(self) -> None:
        self._handler = None


def from_url(url: str | None, process_id: str) -> Bus:
    """The bus for `CES_REDIS_URL` (None or "": this process only)."""
    if not url:
        return LocalBus()
    from .bus_redis import RedisBus  # redis-py is imported only by deployments that use it
    return RedisBus(url, process_id)
