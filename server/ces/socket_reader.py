"""Each websocket's reader, as cheap as the serving model allows.

simple-websocket runs a reader beside each socket's handler to answer pings and queue messages.
"""
from __future__ import annotations

from typing import Any

import gevent


class ReaderGreenlet:
    """What simple-websocket needs of a thread class (target, name, start), as a bare greenlet.

    Each socket has a reader running beside its handler. Under monkey-patching `threading.Thread`
    works but carries a thread's bookkeeping (its events, locks, name, registry entry) for each of
    the 20,000 sockets a process may hold; a raw greenlet is the least a concurrent reader costs.
    """
    __slots__ = ("_target", "name")

    def __init__(self, target: Any) -> None:
        self._target = target
        self.name = "ws-reader"

    def start(self) -> None:
        gevent.spawn_raw(self._target)


def socket_thread_options() -> dict[str, Any]:
    """flask-sock server options for the serving model in use: a raw greenlet per reader under
    gevent, simple-websocket's default (a real thread) elsewhere (the threaded test server)."""
    from gevent import monkey
    return {"thread_class": ReaderGreenlet} if monkey.is_module_patched("threading") else {}
