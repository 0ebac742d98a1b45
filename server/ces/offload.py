"""Long database work off the event loop.

Under the gevent worker every connection shares one loop, and a call into SQLite holds it: short
calls (a widget message, ~35 µs; a batch of 100 events, a few ms) cost the other connections
nothing they would notice, but a report over a million answers (100-300 ms) would freeze every
socket of the process for that long. Such calls run on gevent's pool of native threads instead: the
SQLite C code releases the GIL, the loop goes on serving, and the calling greenlet resumes with the
result. Outside gevent (the threaded test server, the CLI) the call simply runs where it is.
"""
from __future__ import annotations

import contextvars
from typing import Any, Callable, TypeVar

T = TypeVar("T")


def _loop_in_use() -> bool:
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency; be safe in odd installs
        return False
    return bool(monkey.is_module_patched("threading"))


def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)`, on a native thread when the event loop is in use.

    The caller's context (Flask's app and request) goes along, so `fn` may use `current_app`.
    The native thread's storage connection is its own (Storage keeps one per thread).
    """
    if not _loop_in_use():
        return fn(*args, **kwargs)
    import gevent
    ctx = contextvars.copy_context()
    return gevent.get_hub().threadpool.apply(ctx.run, (fn, *args), kwargs)
