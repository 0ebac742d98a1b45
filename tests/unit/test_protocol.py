"""The widget protocol's message parsing, directly."""
from __future__ import annotations

import json

import pytest

from ces.core import protocol


def parse(obj) -> protocol.ClientMessage:
    return protocol.parse(json.dumps(obj))


def test_valid_messages_parse() -> None:
    msg = parse({"type": "answer", "prompt": "p_1", "score": 5, "comment": "ok", "id": "r1"})
    assert (msg.type, msg.get("score"), msg.get("comment"), msg.ref) == ("answer", 5, "ok", "r1")
    assert parse({"type": "hello", "site": "s", "user": "u", "anonymous": False}).get("user") == "u"
    assert parse({"type": "event", "name": "checkout_completed"}).get("properties") is None


@pytest.mark.parametrize("obj,code,field", [
    ({"type": "answer", "prompt": "p", "score": True}, "bad_message", "score"),
    ({"type": "answer", "prompt": "p", "score": 5.0}, "bad_message", "score"),
    ({"type": "answer", "score": 5}, "bad_message", "prompt"),
    ({"type": "hello", "site": "   "}, "bad_message", "site"),
    ({"type": "hello", "site": "s", "traits": []}, "bad_message", "traits"),
    ({"type": "nope"}, "bad_message", "type"),
    ({"prompt": "p"}, "bad_message", "type"),
    ({"type": "shown", "prompt": "p", "id": 7}, "bad_message", "id"),
])
def test_invalid_messages_name_the_field(obj, code, field) -> None:
    with pytest.raises(protocol.ProtocolError) as err:
        parse(obj)
    assert (err.value.code, err.value.field) == (code, field)


def test_error_keeps_the_ref() -> None:
    with pytest.raises(protocol.ProtocolError) as err:
        parse({"type": "answer", "prompt": "p", "id": "abc"})
    assert err.value.to_message() == {"type": "error", "code": "bad_message", "message": "'score' is required.",
                                      "ref": "abc", "field": "score"}


def test_size_and_json_limits() -> None:
    with pytest.raises(protocol.ProtocolError) as err:
        protocol.parse("x" * 100, max_size=50)
    assert err.value.code == "too_large"
    with pytest.raises(protocol.ProtocolError) as err:
        protocol.parse("{")
    assert err.value.code == "bad_json"
    with pytest.raises(protocol.ProtocolError) as err:
        protocol.parse(b"\xff\xfe")
    assert err.value.code == "bad_json"


def test_prompt_message_shape() -> None:
    survey = {"id": 3, "metric": "nps", "followup_max_score": 6, "appearance": {"color": "#123456"}}
    texts = {"question": "Q?", "low_label": "no", "high_label": "yes", "labels": [], "followup": "Why?"}
    msg = protocol.prompt("p_1", survey, texts, "fr", 0, 10, 123.0)
    assert msg["type"] == "prompt"
    assert msg["prompt"]["survey"]["followup"] == {"question": "Why?", "max_score": 6}
    assert (msg["prompt"]["survey"]["min"], msg["prompt"]["survey"]["max"]) == (0, 10)
