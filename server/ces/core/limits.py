"""Size limits on what clients may send us: properties and traits stay small and shallow, so a
single event can never bloat the database or slow a decision down."""
from __future__ import annotations

from typing import Any

from .compact_json import compact_json

# What SQLite stores as an integer: a larger id or count would fail in the driver (OverflowError).
INT_MIN, INT_MAX = -(2 ** 63), 2 ** 63 - 1

MAX_KEYS = 64
MAX_DEPTH = 3
MAX_BYTES = 8 * 1024


def _depth(value: Any) -> int:
    """Levels of objects: a list does not count as a level, an object inside one does."""
    is_object = isinstance(value, dict)
    deepest = 0
    for v in (value.values() if is_object else value):
        if isinstance(v, (dict, list)):  # plain values, the usual case, need no call
            deepest = max(deepest, _depth(v))
    return deepest + is_object


def check_object(value: Any) -> str | None:
    """None when `value` is an acceptable properties/traits object, else what is wrong."""
    if not isinstance(value, dict):
        return "Must be a JSON object."
    if len(value) > MAX_KEYS:
        return f"At most {MAX_KEYS} keys."
    if _depth(value) > MAX_DEPTH:
        return f"Nested deeper than {MAX_DEPTH} levels."
    if len(compact_json(value)) > MAX_BYTES:
        return f"Larger than {MAX_BYTES} bytes as JSON."
    return None
