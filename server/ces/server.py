"""Production serving: gunicorn with the threaded worker.

Each open websocket holds one thread of the worker (plus the reader thread of simple-websocket),
so `threads` bounds the sockets one process holds; idle threads cost little memory. One worker
process: the hub of open sockets lives in that process (see docs/deployment.md).
"""
from __future__ import annotations

import logging
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


def serve(host: str, port: int, overrides: dict[str, Any], threads: int = 2000) -> None:
    raise_open_file_limit(threads)

    def load() -> Any:
        from .app import create_app
        return create_app(overrides)
    Gunicorn(options(host, port, threads), load).run()


def raise_open_file_limit(threads: int) -> int:
    """Raise this process's open-file limit to the hard limit; the soft limit it ends with.

    Each open socket costs 2 descriptors (docs/deployment.md) and many systems start processes at
    a soft limit of 1,024, which would cap a server at about 500 widgets whatever --threads says.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 2 * threads + 1024)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft < 2 * threads + 256:
        log.warning("open-file limit %d holds about %d sockets, fewer than --threads %d: raise `ulimit -n`",
                    soft, (soft - 256) // 2, threads)
    return soft


def options(host: str, port: int, threads: int) -> dict[str, Any]:
    """The production settings (the benchmarks run their baselines under the same)."""
    return {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": threads,
        "worker_connections": threads,
        "timeout": 60,
        "graceful_timeout": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
    }
