"""The gunicorn worker `ces serve` runs: gevent's, so that a socket costs a greenlet, not a thread.

Every connection is a greenlet of one event loop: a client that is slow to send, never closes, or
idles on an upgraded websocket costs a few KB of memory and holds up nobody (under the threaded
worker it held a thread, and gunicorn's lingering close ran on the thread serving everyone).

What this subclass adds: on a graceful stop (SIGTERM, a restart) every open widget socket is closed
with 1012 "service restart" first, so widgets reconnect at once — to this server once it is back,
or to another behind the load balancer — instead of being cut when the graceful timeout ends.
"""
from __future__ import annotations

import logging
from typing import Any

import gevent
from gunicorn.workers.ggevent import GeventWorker

log = logging.getLogger(__name__)

RESTART_CODE = 1012  # RFC 6455 registry: "Service Restart"


class Worker(GeventWorker):  # type: ignore[misc]
    def handle_exit(self, sig: int, frame: Any) -> None:
        # A signal handler must not block: the sockets are closed from a greenlet of the loop.
        gevent.spawn(self._tell_widgets)
        super().handle_exit(sig, frame)

    def _tell_widgets(self) -> None:
        services = getattr(self.wsgi, "extensions", {}).get("ces")
        if services is not None:
            closed = services.hub.close_all(RESTART_CODE, "Server restarting; reconnect.")
            log.info("closed %d widget sockets for the restart", closed)
            if services.courier is not None:
                services.courier.stop()  # its presence row goes: the connected count drops at once

