"""Hostile widget messages (core/protocol.py): each a ProtocolError with a code, the field and the
message's ref when it has a usable one; never another exception."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ces.core import protocol
from ces.core.protocol import ProtocolError, parse


@pytest.mark.parametrize("text", ['{"type": [], "id": "r"}', '{"type": {}, "id": "r"}', '{"type": 5, "id": "r"}',
                                  '{"id": "r"}', '{"type": null, "id": "r"}', '{"type": "x" , "id": "r"}',
                                  '{"type": true, "id": "r"}', '{"type": "hel\\u0000lo", "id": "r"}'])
def test_malformed_type_is_bad_message_with_ref(text: str) -> None:
    with pytest.raises(ProtocolError) as err:
        parse(text)
    assert (err.value.code, err.value.field, err.value.ref) == ("bad_message", "type", "r")


@pytest.mark.parametrize("text,field,ref", [
    ('{"type": "hello", "site": "k", "user": "\\ud800", "id": "r"}', "user", "r"),
    ('{"type": "event", "name": "x", "properties": {"a": NaN}, "id": "r"}', "properties.a", "r"),
    ('{"type": "event", "name": "x", "properties": {"a": 1e999}}', "properties.a", None),
    ('{"type": "comment", "prompt": "p", "comment": "\\udc00", "id": "r"}', "comment", "r"),
    ('{"type": "shown", "prompt": "p", "id": "\\ud800"}', "id", None),  # no ref to echo: it is the bad part
])
def test_bad_values_name_the_field(text: str, field: str, ref: str | None) -> None:
    with pytest.raises(ProtocolError) as err:
        parse(text)
    assert (err.value.code, err.value.field, err.value.ref) == ("bad_message", field, ref)
    json.dumps(err.value.to_message(), allow_nan=False).encode("utf-8")  # the reply itself is clean


def test_deep_message_is_bad_message_and_not_json_is_bad_json() -> None:
    with pytest.raises(ProtocolError) as err:
        parse('{"type": "event", "name": "x", "properties": {"a": ' + "[" * 5000 + "]" * 5000 + "}}", 10 ** 6)
    assert err.value.code == "bad_message"
    with pytest.raises(ProtocolError) as err:
        parse("{nope")
    assert err.value.code == "bad_json"


_hostile = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(alphabet=st.characters()),
                        lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(alphabet=st.characters()),
                                                                                  kids, max_size=3), max_leaves=10)


@settings(max_examples=300)
@given(st.one_of(_hostile, st.fixed_dictionaries({"type": st.sampled_from(sorted(protocol._FIELDS)) | _hostile},
                                                 optional={"id": _hostile, "user": _hostile, "name": _hostile,
                                                           "properties": _hostile, "score": _hostile})))
def test_anything_is_a_message_or_a_protocol_error(value) -> None:
    try:
        parse(json.dumps(value))
    except ProtocolError as err:
        json.dumps(err.to_message(), allow_nan=False).encode("utf-8")


def test_a_prompt_is_strict_json_even_from_an_appearance_stored_with_nan() -> None:
    survey = {"id": 1, "metric": "ces7", "appearance": {"color": "#123", "size": float("nan"), "z": float("inf")}}
    texts = {"question": "q", "low_label": None, "high_label": None, "labels": None, "followup": None}
    msg = protocol.prompt("p_1", survey, texts, "en", 1, 7, 10.0)
    assert json.loads(json.dumps(msg, allow_nan=False))["prompt"]["survey"]["appearance"] == \
        {"color": "#123", "size": None, "z": None}
