"""Production serving: gunicorn with the threaded worker.

Each open websocket holds one thread of the worker (plus the reader thread of simple-websocket),
so `threads` bounds the sockets one process holds; idle threads cost little memory. One worker
process: the hub of open sockets lives in that process (see docs/deployment.md).
"""
from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any], overrides: dict[str, Any]) -> None:
        self.options = options
        self.overrides = overrides
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from .app import create_app
        return create_app(self.overrides)


def serve(host: str, port: int, overrides: dict[str, Any], threads: int = 2000) -> None:
    _Gunicorn({
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
    }, overrides).run()
