"""The hand-checked fast path for event bodies gives exactly what marshmallow gives, or defers to it."""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from ces.api.schemas import EventBatchSchema, EventSchema, _plain_event, load_events


def marshmallow_events(body: dict[str, Any]) -> list[dict[str, Any]]:
    if "events" in body:
        return EventBatchSchema().load(body)["events"]
    return [EventSchema().load(body)]


def outcome(fn, body):
    try:
        return ("ok", fn(body))
    except ValidationError as exc:
        return ("error", exc.messages)


_text = st.one_of(st.text(max_size=5), st.text(min_size=125, max_size=130), st.text(min_size=255, max_size=258))
_timestamps = st.one_of(
    st.none(), st.integers(), st.text(max_size=8),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat(timespec="milliseconds")),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["2026-13-01T00:00:00Z", "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00.1Z",
                     "2026-01-01T00:00:00.1234567Z", "2026-01-01 00:00:00Z", "2026-01-01T00:00:00+0200"]),
)
_json = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
                     lambda kids: st.one_of(st.lists(kids, max_size=3), st.dictionaries(st.text(max_size=3), kids,
                                                                                        max_size=3)), max_leaves=12)
_properties = st.one_of(_json, st.dictionaries(st.text(max_size=3), _json, max_size=4),
                        st.just({f"k{i}": i for i in range(65)}), st.just({"a": {"b": {"c": {"d": 1}}}}),
                        st.just({"big": "x" * 9000}))


@st.composite
def _events(draw):
    event: dict[str, Any] = {}
    for key, values in (("user_id", st.one_of(_text, st.integers(), st.none())),
                        ("name", st.one_of(_text, st.none())), ("properties", _properties),
                        ("timestamp", _timestamps), ("event_id", st.one_of(_text, st.none(), st.integers()))):
        if draw(st.booleans()) or key in ("user_id", "name") and draw(st.booleans()):
            event[key] = draw(values)
    if draw(st.integers(0, 20)) == 0:
        event["extra"] = 1
    return event


def _normalise(result):
    kind, value = result
    if kind == "ok":
        return kind, [{**e, "timestamp": e["timestamp"] and e["timestamp"].timestamp()} for e in value]
    return result


@settings(max_examples=1500, deadline=None)
@given(st.one_of(_events(), st.builds(lambda es: {"events": es}, st.lists(_events(), max_size=4)),
                 st.builds(lambda es: {"events": es, "x": 1}, st.lists(_events(), min_size=1, max_size=2))))
def test_fast_path_agrees_with_marshmallow(body) -> None:
    assert _normalise(outcome(load_events, body)) == _normalise(outcome(marshmallow_events, body))


def test_the_fast_path_is_the_one_taken_for_plain_events() -> None:
    # Not a tautology of the test above: the fast path must actually accept the normal case.
    event = {"user_id": "u-1", "name": "checkout_completed", "properties": {"amount": 59.9, "order_id": "o-1"},
             "timestamp": "2026-11-23T10:00:00.123456+00:00", "event_id": "ev-1"}
    loaded = _plain_event(event)
    assert loaded is not None and loaded["timestamp"].timestamp() == 1795428000.123456
    assert _plain_event({"user_id": "u", "name": "n"}) == {"user_id": "u", "name": "n", "properties": {},
                                                           "timestamp": None, "event_id": None}


@pytest.mark.parametrize("body, field", [
    ({"events": [{"user_id": "u", "name": "n"}, {"user_id": "u", "name": ""}]}, "events"),
    ({"user_id": "u", "name": "n", "properties": [1]}, "properties"),
    ({"user_id": "u", "name": "n", "timestamp": "2026-13-01T00:00:00Z"}, "timestamp"),
])
def test_refusals_still_name_the_field(body, field) -> None:
    with pytest.raises(ValidationError) as exc:
        load_events(body)
    assert field in exc.value.messages
