"""Production serving: gunicorn with an event-loop worker (gevent, `ces.worker.Worker`).

Each connection is a greenlet: an idle widget socket costs a few KB and no thread, and a slow or
silent client holds up nobody. `connections` bounds what one process holds. Several worker
processes need the doorbell between them (CES_REDIS_URL, bus.py): each holds its own sockets.
"""
from __future__ import annotations

import logging
import os
import resource
from typing import Any, Callable

from gunicorn.app.base import BaseApplication

log = logging.getLogger(__name__)


class Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn with `options`, serving the WSGI app `load()` returns (in the worker)."""

    def __init__(self, options: dict[str, Any], load: Callable[[], Any]) -> None:
        self.options = options
        self._load = load
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self._load()


DEFAULT_CONNECTIONS = 25_000


def worker_count(requested: int | None, redis_url: str | None) -> int:
    """The worker processes to run: one per core with a bus, one without; ValueError for several
    asked without a bus (each would hold its own sockets, and a prompt decided in one would reach a
    user connected to another only at its next sweep)."""
    if requested is None:
        return max(1, os.cpu_count() or 1) if redis_url else 1
    if requested > 1 and not redis_url:
        raise ValueError(f"--workers {requested} needs CES_REDIS_URL (e.g. redis://127.0.0.1:6379/0): worker "
                         "processes ring each other through Redis when a prompt is decided for a user connected "
                         "to another one. Set it, or run one worker (docs/deployment.md \"Several processes\").")
    return requested


def serve(host: str, port: int, overrides: dict[str, Any], connections: int = DEFAULT_CONNECTIONS,
          workers: int = 1) -> None:
    raise_open_file_limit(connections)

    def load() -> Any:
        from .app import create_app
        return create_app(overrides)
    Gunicorn({**options(host, port, connections), "workers": workers}, load).run()


RESERVED_FILES = 64  # listeners, the SQLite pool and its WAL files, logs, pipes


def raise_open_file_limit(connections: int) -> int:
    """Raise this process's open-file limit to the hard limit; the soft limit it ends with.

    Each open socket costs 1 descriptor under the event-loop worker, and many systems start
    processes at a soft limit of 1,024, which would cap a server at about 1,000 widgets whatever
    --connections says.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, connections + RESERVED_FILES)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft < connections + RESERVED_FILES:
        log.warning("open-file limit %d holds about %d sockets, fewer than --connections %d: raise `ulimit -Hn`",
                    soft, soft - RESERVED_FILES, connections)
    return soft


def options(host: str, port: int, connections: int) -> dict[str, Any]:
    """The production settings (the benchmarks run their baselines under the same)."""
    return {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_class": "ces.worker.Worker",
        "worker_connections": connections,
        # Keep-alive on (a shop's backend reuses its connection for every batch), and it bounds
        # the wait for each request's headers: a client that connects and sends nothing, or
        # dribbles its headers, is dropped after this many seconds.
        "keepalive": 5,
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
    }
