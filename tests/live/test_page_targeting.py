"""Page targeting, live: a `page_view` from the widget (source "any") decided on the server with
the new string operators; bad patterns are a 400 naming the condition's value."""
from __future__ import annotations

import pytest

from ces.testing import LiveServer

from asking_support import ok, policy, trigger


def test_page_view_where_path_starts_with(live_server: LiveServer) -> None:
    policy(live_server)
    trigger(live_server, "page_view", source="any",
            conditions={"all": [{"field": "properties.path", "op": "starts_with", "value": "/checkout/thanks"},
                                {"field": "properties.path", "op": "not_contains", "value": "/test/"}]})
    tab = live_server.ws("buyer", visit="v")
    tab.send({"type": "event", "name": "page_view", "properties": {"path": "/cart"}, "id": "1"})
    ack = tab.expect("ack")
    assert (ack["reason"], ack["detail"]) == ("conditions_false",
                                              'trigger 3: properties.path = "/cart" does not start with "/checkout/thanks"')
    tab.send({"type": "event", "name": "page_view", "properties": {"path": "/checkout/thanks/o-1"}, "id": "2"})
    assert tab.expect("ack")["decision"] == "prompt"
    assert tab.expect("prompt")


@pytest.mark.parametrize(("op", "value"), [("regex", "(unclosed"), ("regex", "a" * 201), ("glob", ""),
                                           ("regex", "(x{999}){999}"), ("starts_with", 3)])
def test_bad_patterns_are_refused_and_nothing_is_stored(live_server: LiveServer, op: str, value: object) -> None:
    count = lambda: live_server.services.storage.one("select count(*) as n from triggers")["n"]  # noqa: E731
    before = count()
    status, body = live_server.admin("POST", "/api/v1/triggers", {
        "event_name": "page_view", "survey_id": live_server.survey_id, "source": "any",
        "conditions": {"all": [{"field": "properties.path", "op": op, "value": value}]}})
    assert status == 400 and "value" in body["error"]["fields"]["conditions"]["all"]["0"], body
    assert count() == before
    ok(live_server.admin("GET", "/api/v1/triggers"))


def test_csat_label_presets_through_the_api(live_server: LiveServer) -> None:
    created = ok(live_server.admin("POST", "/api/v1/surveys", {
        "name": "Experience", "metric": "csat5", "label_preset": "experience",
        "texts": {"it": {"question": "Com'è andata?"}}}), 201)
    assert "label_preset" not in created
    assert set(created["texts"]) == {"it", "en", "fr", "ro", "de", "es"}
    assert created["texts"]["fr"]["labels"] == ["Mauvaise", "Pas bonne", "Correcte", "Bonne", "Très bonne"]
    patched = ok(live_server.admin("PATCH", f"/api/v1/surveys/{created['id']}", {"label_preset": "quality"}))
    assert patched["texts"]["en"]["labels"] == ["Terrible", "Not great", "Okay", "Good", "Excellent"]
    assert patched["texts"]["it"]["question"] == "Com'è andata?"  # another locale keeps its texts
    for body, field in (({"name": "x", "metric": "nps", "label_preset": "quality"}, "label_preset"),
                        ({"name": "x", "metric": "csat5", "label_preset": "colour"}, "label_preset")):
        status, error = live_server.admin("POST", "/api/v1/surveys", body)
        assert status == 400 and field in error["error"]["fields"], error
