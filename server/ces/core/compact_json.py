"""The compact JSON text of a value, as stored, sent and measured everywhere.

`json.dumps(value, separators=...)` builds a new encoder on every call, and even a reused
`JSONEncoder.encode` builds its C encoder on every call: for the small objects of the event path
(properties, protocol messages) that costs more than the encoding. So the C encoder is built once
(the same object `JSONEncoder` would build; falls back to it where the C accelerator is missing).
Without the circular-reference check: what we encode comes from JSON or from our own code, and a
cycle would still end in RecursionError, not a hang.
"""
from __future__ import annotations

import json
from json import encoder as _encoder
from typing import Any, Callable

_fallback = json.JSONEncoder(separators=(",", ":")).encode


def _build() -> Callable[[Any], str]:
    make = _encoder.c_make_encoder
    if make is None:  # pragma: no cover - CPython always has it
        return _fallback
    encode = make(None, json.JSONEncoder().default, _encoder.encode_basestring_ascii, None, ":", ",",
                  False, False, True)

    def compact_json(value: Any) -> str:
        return "".join(encode(value, 0))
    return compact_json


compact_json = _build()
