"""Counters of what happened to the calls a client was given (for monitoring and tests)."""
from __future__ import annotations

import threading
from typing import Dict

FIELDS = (
    "sent",       # items the server accepted (a duplicate answered ``skip`` counts too)
    "dropped",    # items refused at the door because the queue was full
    "invalid",    # items dropped because they could not be encoded (async mode)
    "failed",     # items lost because the server refused them or retries ran out
    "requests",   # HTTP requests made, retries included
    "retries",    # of which retries
)


class Stats:
    """Thread-safe counters; read them with ``snapshot()``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: Dict[str, int] = dict.fromkeys(FIELDS, 0)

    def add(self, **counts: int) -> None:
        with self._lock:
            for key, value in counts.items():
                self._values[key] += value

    def get(self, key: str) -> int:
        return self._values[key]

    def snapshot(self) -> Dict[str, int]:
        with self._lock:
            return dict(self._values)
