"""Request bodies, validated with marshmallow: every refusal names the field and the problem."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from ..core.limits import INT_MAX, INT_MIN, check_object

# Every integer that reaches a query fits SQLite's 64 bits (a larger one would be a 500).
SQLITE_INT = validate.Range(min=INT_MIN, max=INT_MAX, error="Must be a 64-bit integer ({min} to {max}).")


def _object_limits(value: Any) -> None:
    problem = check_object(value)
    if problem:
        raise ValidationError(problem)


class EventSchema(Schema):
    user_id = fields.String(required=True, validate=validate.Length(min=1, max=256))
    name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    properties = fields.Raw(load_default=dict, validate=_object_limits)
    timestamp = fields.AwareDateTime(load_default=None, format="iso", default_timezone=None)
    event_id = fields.String(load_default=None, validate=validate.Length(min=1, max=128))


class EventBatchSchema(Schema):
    events = fields.List(fields.Nested(EventSchema), required=True,
                         validate=validate.Length(min=1, max=1000))


class IdentifySchema(Schema):
    user_id = fields.String(required=True, validate=validate.Length(min=1, max=256))
    traits = fields.Raw(required=True, validate=_object_limits)


class IdentifyBatchSchema(Schema):
    users = fields.List(fields.Nested(IdentifySchema), required=True, validate=validate.Length(min=1, max=1000))


class DryRunSchema(Schema):
    dry_run = fields.Boolean(load_default=False)
    # Each result also says, in words, why, and lists every trigger tried (ingest.py, "explain").
    explain = fields.Boolean(load_default=False)


# --------------------------------------------------------------------------- events, fast

_EVENT_KEYS = frozenset(("user_id", "name", "properties", "timestamp", "event_id"))
# The ISO form the SDK and most clients send; anything else goes to marshmallow.
_PLAIN_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})\Z", re.ASCII)


def load_events(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of a body (one event, or `{"events": [...]}`), as EventSchema loads them.

    Batches of plain, valid events (the normal case, on the hot path) are checked here by hand;
    anything this check is not sure of goes through marshmallow, which accepts or refuses it
    and names the field. Both give the same result (property test in tests/unit/test_schemas.py).
    """
    if "events" in body:
        events = body["events"]
        fast = len(body) == 1 and type(events) is list and 1 <= len(events) <= 1000
        loaded = [_plain_event(e) for e in events] if fast else [None]
        if None in loaded:
            return EventBatchSchema().load(body)["events"]
        return loaded  # type: ignore[return-value]
    event = _plain_event(body)
    return [event if event is not None else EventSchema().load(body)]


def _plain_event(e: Any) -> dict[str, Any] | None:
    """The loaded event when `e` is a plainly valid one, else None (marshmallow decides)."""
    if type(e) is not dict or not e.keys() <= _EVENT_KEYS:
        return None
    user_id, name = e.get("user_id"), e.get("name")
    if type(user_id) is not str or not 1 <= len(user_id) <= 256 or type(name) is not str or not 1 <= len(name) <= 128:
        return None
    event_id = e.get("event_id")
    if event_id is not None and (type(event_id) is not str or not 1 <= len(event_id) <= 128):
        return None
    properties = e.get("properties", _ABSENT)
    if properties is _ABSENT:
        properties = {}
    elif type(properties) is not dict or check_object(properties) is not None:
        return None
    timestamp = e.get("timestamp")
    if timestamp is not None:
        if type(timestamp) is not str or not _PLAIN_ISO.match(timestamp):
            return None
        try:
            timestamp = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
        except ValueError:  # month 13, offset +24:00…: marshmallow words the refusal
            return None
    return {"user_id": user_id, "name": name, "properties": properties, "timestamp": timestamp, "event_id": event_id}


_ABSENT = object()
