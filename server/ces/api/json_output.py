"""Every JSON response is strict JSON: never `NaN` or `Infinity`, which Python's encoder writes by
default and which JSON.parse, jq and most other parsers refuse.

New input can no longer hold them (core/json_input.py), but rows an older version stored can:
encoding is tried strictly (no cost on the normal path) and, only when it fails, the value is
written again with each non-finite number as null.
"""
from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider

from ..core.finite import finite


class StrictJSONProvider(DefaultJSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs["allow_nan"] = False
        try:
            return super().dumps(obj, **kwargs)
        except ValueError:  # "Out of range float values are not JSON compliant"
            return super().dumps(finite(obj), **kwargs)
