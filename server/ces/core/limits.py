"""Size limits on what clients may send us: properties and traits stay small and shallow, so a
single event can never bloat the database or slow a decision down."""
from __future__ import annotations

import json
from typing import Any

MAX_KEYS = 64
MAX_DEPTH = 3
MAX_BYTES = 8 * 1024


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return max((_depth(v) for v in value), default=0)
    return 0


def check_object(value: Any) -> str | None:
    """None when `value` is an acceptable properties/traits object, else what is wrong."""
    if not isinstance(value, dict):
        return "Must be a JSON object."
    if len(value) > MAX_KEYS:
        return f"At most {MAX_KEYS} keys."
    if _depth(value) > MAX_DEPTH:
        return f"Nested deeper than {MAX_DEPTH} levels."
    if len(json.dumps(value, separators=(",", ":"))) > MAX_BYTES:
        return f"Larger than {MAX_BYTES} bytes as JSON."
    return None
