"""Values without NaN or Infinity, for writing strict JSON from what an older version stored.

Input refuses them now (core/json_input.py); rows stored before that may still hold them, and
Python's encoder would write them as `NaN`/`Infinity`, which JSON parsers refuse.
"""
from __future__ import annotations

import math
from typing import Any


def finite(value: Any) -> Any:
    """`value` with every non-finite float replaced by None (containers copied, others as they are)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value
