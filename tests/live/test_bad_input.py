"""Bad input is refused with a 4xx (or a websocket error) naming the problem, and changes nothing."""
from __future__ import annotations

import json

import pytest

from ces.testing import LiveServer, http, websocket_wire


def snapshot(server: LiveServer) -> dict[str, list]:
    storage = server.services.storage
    return {t: storage.all(f"select * from {t} order by 1")
            for t in ("sites", "surveys", "triggers", "events", "prompts", "answers", "users")}


@pytest.fixture
def seeded(live_server: LiveServer) -> LiveServer:
    """A server with an event, a prompt and an answer already stored."""
    tab = live_server.ws("seed-user")
    _, body = live_server.post_events({"user_id": "seed-user", "name": "checkout_completed", "event_id": "seed"})
    prompt_id = body["results"][0]["prompt_id"]
    tab.expect("prompt")
    tab.send({"type": "answer", "prompt": prompt_id, "score": 4})
    tab.expect("ack")
    return live_server


BAD_EVENTS = [
    ({"name": "checkout_completed"}, ["user_id"]),
    ({"user_id": "u"}, ["name"]),
    ({"user_id": 5, "name": "x"}, ["user_id"]),
    ({"user_id": "", "name": "x"}, ["user_id"]),
    ({"user_id": "u", "name": "x", "properties": [1, 2]}, ["properties"]),
    ({"user_id": "u", "name": "x", "properties": {"a": {"b": {"c": {"d": 1}}}}}, ["properties"]),
    ({"user_id": "u", "name": "x", "properties": {f"k{i}": i for i in range(65)}}, ["properties"]),
    ({"user_id": "u", "name": "x", "timestamp": "yesterday"}, ["timestamp"]),
    ({"user_id": "u", "name": "x", "timestamp": "2026-01-01T10:00:00"}, ["timestamp"]),  # no timezone
    ({"user_id": "u", "name": "x", "colour": "red"}, ["colour"]),
    ({"events": []}, ["events"]),
    ({"events": "nope"}, ["events"]),
    ({"events": [{"user_id": "ok", "name": "checkout_completed"}, {"user_id": "u"}]}, ["events"]),
]


@pytest.mark.parametrize("body,fields", BAD_EVENTS)
def test_bad_events_are_refused_naming_the_field(seeded: LiveServer, body, fields) -> None:
    before = snapshot(seeded)
    status, answer = seeded.post_events(body)
    assert status == 400, answer
    assert answer["error"]["code"] == "validation_error"
    assert set(fields) <= set(answer["error"]["fields"]), answer
    assert snapshot(seeded) == before


def test_batch_over_the_limit_is_refused(seeded: LiveServer) -> None:
    before = snapshot(seeded)
    events = [{"user_id": f"u{i}", "name": "x"} for i in range(1001)]
    status, answer = seeded.post_events({"events": events})
    assert status == 400 and "events" in answer["error"]["fields"]
    assert snapshot(seeded) == before


def test_body_over_1_mb_is_refused(seeded: LiveServer) -> None:
    before = snapshot(seeded)
    raw = json.dumps({"user_id": "u", "name": "x", "properties": {"blob": "x" * (1024 * 1024)}}).encode()
    status, answer = http("POST", f"{seeded.url}/api/v1/events", raw=raw, token=seeded.site["secret_key"])
    assert status == 413 and answer["error"]["code"] == "too_large"
    assert snapshot(seeded) == before


@pytest.mark.parametrize("raw", [b"{not json", b"[1,2]", b"", b'"text"'])
def test_malformed_json_is_refused(seeded: LiveServer, raw: bytes) -> None:
    before = snapshot(seeded)
    status, answer = http("POST", f"{seeded.url}/api/v1/events", raw=raw, token=seeded.site["secret_key"])
    assert status == 400 and answer["error"]["code"] == "bad_json"
    assert snapshot(seeded) == before


@pytest.mark.parametrize("token", [None, "sk_wrong", ""])
def test_wrong_or_missing_key_is_401(seeded: LiveServer, token) -> None:
    before = snapshot(seeded)
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    status, answer = http("POST", f"{seeded.url}/api/v1/events", {"user_id": "u", "name": "checkout_completed"},
                          headers=headers)
    assert status == 401 and answer["error"]["code"] == "unauthorized"
    assert snapshot(seeded) == before


def test_site_key_is_not_a_secret_key(seeded: LiveServer) -> None:
    status, _ = seeded.post_events({"user_id": "u", "name": "x"}, token=seeded.site["site_key"])
    assert status == 401


def test_unknown_survey_score_is_404_naming_it(seeded: LiveServer) -> None:
    status, answer = seeded.get("/api/v1/surveys/999/score")
    assert status == 404 and "survey_id" in answer["error"]["fields"]


def test_other_sites_survey_is_not_found(seeded: LiveServer) -> None:
    other = seeded.services.storage.create_site("Other", seeded.clock())
    status, _ = seeded.get(f"/api/v1/surveys/{seeded.survey_id}/score", token=other["secret_key"])
    assert status == 404


WS_BAD = [
    ("not json", "bad_json", None),
    ("[1]", "bad_message", None),
    (json.dumps({"type": "teleport"}), "bad_message", "type"),
    (json.dumps({"type": "answer", "prompt": "p_x"}), "bad_message", "score"),
    (json.dumps({"type": "answer", "prompt": 5, "score": 5}), "bad_message", "prompt"),
    (json.dumps({"type": "answer", "prompt": "p_unknown", "score": 5}), "unknown_prompt", "prompt"),
    (json.dumps({"type": "comment", "prompt": "p_x", "comment": "x" * 2001}), "bad_message", "comment"),
    (json.dumps({"type": "event", "name": "x", "properties": "nope"}), "bad_message", "properties"),
    (json.dumps({"type": "shown", "prompt": "p_x", "id": "x" * 65}), "bad_message", "id"),
    ("x" * 20000, "too_large", None),
]


@pytest.mark.parametrize("raw,code,field", WS_BAD)
def test_bad_websocket_messages_get_an_error_and_change_nothing(seeded: LiveServer, raw, code, field) -> None:
    before = snapshot(seeded)
    bystander = seeded.ws("bystander")
    tab = seeded.ws("someone")
    tab.send(raw)
    err = tab.expect("error")
    assert err["code"] == code
    if field:
        assert err["field"] == field
    assert snapshot(seeded)["answers"] == before["answers"]
    assert snapshot(seeded)["prompts"] == before["prompts"]
    # The socket and everyone else's are still alive.
    tab.send({"type": "shown", "prompt": "p_nope", "id": "still-here"})
    assert tab.expect("error")["ref"] == "still-here"
    seeded.post_events({"user_id": "bystander", "name": "checkout_completed"})
    assert bystander.expect("prompt")


def test_message_before_hello_is_refused(seeded: LiveServer) -> None:
    tab = seeded.ws()
    tab.send({"type": "answer", "prompt": "p_x", "score": 3})
    assert tab.expect("error")["code"] == "not_identified"


def test_a_refused_socket_gets_the_error_then_the_close_frame_and_nothing_else(seeded: LiveServer) -> None:
    """Bytes after the close frame made Chromium drop the error with them (and the widget retry)."""
    frames = websocket_wire(seeded.ws_url, json.dumps({"type": "hello", "site": "site_nope", "user": "u"}))
    assert [opcode for opcode, _ in frames] == [0x1, 0x8]
    assert json.loads(frames[0][1])["code"] == "unknown_site"
    assert frames[1][1][:2] == (1000).to_bytes(2, "big")


def test_unknown_site_key_gets_error_and_close(seeded: LiveServer) -> None:
    tab = seeded.ws()
    tab.send({"type": "hello", "site": "site_nope", "user": "u"})
    assert tab.expect("error")["code"] == "unknown_site"
    with pytest.raises(Exception):
        for _ in range(3):
            tab.ws.receive(timeout=2)
            tab.send({"type": "shown", "prompt": "p"})
