"""Durations in words, for decision details people read ("3 days ago, wait is 30 days")."""
from __future__ import annotations

_UNITS = ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second"))


def human(seconds: float) -> str:
    seconds = max(0, int(seconds))
    for size, name in _UNITS:
        if seconds >= size or size == 1:
            count = seconds // size
            return f"{count} {name}{'' if count == 1 else 's'}"
    return "0 seconds"  # pragma: no cover - the loop always returns
