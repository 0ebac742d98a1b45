"""Turning what the caller gave us into the JSON the server accepts.

The server refuses a whole batch when one event in it is invalid, so everything it would refuse
is caught here, one event at a time, before the event joins a batch: in sync mode the caller gets
the exception at the call site; in async mode the consumer logs it and drops that one event.

Limits mirror ``docs/api.md``: user id 1-256 characters, event name 1-128, event id 1-128,
properties (and traits) at most 64 keys, nesting depth 3 (objects count, lists do not), 8 KiB as
compact JSON.
"""
from __future__ import annotations

import datetime as _dt
import decimal
import json
import math
import uuid
from typing import Any, Mapping, Optional, Union

MAX_USER_ID = 256
MAX_NAME = 128
MAX_EVENT_ID = 128
MAX_PROPERTY_KEYS = 64
MAX_PROPERTIES_BYTES = 8 * 1024
MAX_DEPTH = 3

#: What ``timestamp=`` accepts: an aware or naive (taken as UTC) datetime, epoch seconds, or an
#: ISO 8601 string that is passed through as is.
Timestamp = Union[_dt.datetime, float, int, str]

_SUPPORTED = "str, int, float, bool, None, list, tuple, dict, datetime, date, time, Decimal, UUID, set"


def check_id(value: Any, what: str, limit: int) -> str:
    """Return ``value`` as a non-empty string of at most ``limit`` characters.

    Integers are accepted and turned into strings (user ids are often database keys).
    Raises ``ValueError`` for an empty or too long value, ``TypeError`` for any other type.
    """
    if isinstance(value, str):
        pass
    elif isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    else:
        raise TypeError(f"{what} must be a string, not {type(value).__name__}")
    if not value or not value.strip():
        raise ValueError(f"{what} must not be empty")
    if len(value) > limit:
        raise ValueError(f"{what} is {len(value)} characters long; the server accepts at most {limit}")
    return value


def format_timestamp(value: Optional[Timestamp]) -> Optional[str]:
    """Return ``value`` as an ISO 8601 string with a timezone (or None when not given)."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value:
            raise ValueError("timestamp must not be an empty string")
        return value
    if isinstance(value, bool):
        raise TypeError("timestamp must be a datetime, epoch seconds or an ISO 8601 string")
    if isinstance(value, (int, float)):
        return _dt.datetime.fromtimestamp(value, _dt.timezone.utc).isoformat()
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return value.isoformat()
    raise TypeError(
        f"timestamp must be a datetime, epoch seconds or an ISO 8601 string, not {type(value).__name__}"
    )


def to_jsonable(value: Any, path: str = "properties") -> Any:
    """Return a copy of ``value`` made only of JSON types.

    datetime/date/time become ISO 8601 strings (a naive datetime is taken as UTC), Decimal becomes
    a float, UUID a string, set/frozenset/tuple a list. Anything else raises ``TypeError`` naming
    where it was (``properties['order']['when']``); NaN and infinities raise ``ValueError``.
    """
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path} is {value!r}, which JSON cannot carry")
        return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                if isinstance(key, (int, float, bool)) or key is None:
                    key = json.dumps(key)  # what json.dumps itself does: 1 -> "1", True -> "true"
                else:
                    raise TypeError(f"{path} has a key of type {type(key).__name__}; keys must be strings")
            out[key] = to_jsonable(item, f"{path}[{key!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        return [to_jsonable(item, f"{path}[…]") for item in value]
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return value.isoformat()
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"{path} is Decimal({str(value)!r}), which JSON cannot carry")
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(
        f"{path} is of type {type(value).__name__}, which cannot be sent as JSON "
        f"(supported: {_SUPPORTED})"
    )


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes (what goes on the wire)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def _depth(value: Any) -> int:
    """Nesting depth as the server counts it: each object is a level, lists are transparent."""
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return max((_depth(v) for v in value), default=0)
    return 0


def check_limits(obj: dict, what: str) -> None:
    """Raise ``ValueError`` when a JSON-ready properties/traits object is over the server's limits."""
    if len(obj) > MAX_PROPERTY_KEYS:
        raise ValueError(f"{what} has {len(obj)} keys; the server accepts at most {MAX_PROPERTY_KEYS}")
    if _depth(obj) > MAX_DEPTH:
        raise ValueError(f"{what} is nested deeper than {MAX_DEPTH} levels of objects; the server refuses it")
    size = len(json.dumps(obj, separators=(",", ":")))
    if size > MAX_PROPERTIES_BYTES:
        raise ValueError(f"{what} is {size} bytes as JSON; the server accepts at most {MAX_PROPERTIES_BYTES}")


def encode_event(
    user_id: str,
    name: str,
    properties: Optional[Mapping[str, Any]],
    timestamp: Optional[Timestamp],
    event_id: str,
) -> bytes:
    """Return one event as JSON bytes, or raise ``TypeError``/``ValueError`` saying what is wrong.

    ``user_id``, ``name`` and ``event_id`` are already checked by the caller (``check_id``).
    """
    event: dict[str, Any] = {"event_id": event_id, "user_id": user_id, "name": name}
    if properties is not None and not isinstance(properties, Mapping):
        raise TypeError(f"properties must be a dict, not {type(properties).__name__}")
    if properties:
        props = to_jsonable(properties)
        check_limits(props, "properties")
        event["properties"] = props
    ts = format_timestamp(timestamp)
    if ts is not None:
        event["timestamp"] = ts
    return dumps(event)


def encode_user(user_id: str, traits: Optional[Mapping[str, Any]]) -> bytes:
    """Return one identify entry (``{"user_id", "traits"}``) as JSON bytes."""
    if traits is not None and not isinstance(traits, Mapping):
        raise TypeError(f"traits must be a dict, not {type(traits).__name__}")
    jsonable = to_jsonable(traits or {}, "traits")
    check_limits(jsonable, "traits")
    return dumps({"user_id": user_id, "traits": jsonable})
