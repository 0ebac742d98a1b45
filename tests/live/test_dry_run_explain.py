"""`POST /api/v1/events?dry_run=true&explain=true`: the decision in words and every trigger tried,
as the engine saw them; nothing is recorded."""
from __future__ import annotations

from typing import Any

from ces.core.sampling import sampled_in
from ces.testing import LiveServer


def ok(result: tuple[int, Any], status: int = 200) -> Any:
    assert result[0] == status, result
    return result[1]


def _user_outside(server: LiveServer, trigger_id: int, rate: float) -> str:
    key = server.site["site_key"]
    return next(f"u{i}" for i in range(1000) if not sampled_in(rate, key, trigger_id, f"u{i}"))


def test_explained_dry_run_names_the_sample_and_every_trigger_tried(live_server: LiveServer) -> None:
    sid = live_server.survey_id
    sampled = ok(live_server.admin("POST", "/api/v1/triggers", {
        "event_name": "plan_upgraded", "survey_id": sid, "sample_rate": 50, "priority": 9}), 201)["id"]
    picky = ok(live_server.admin("POST", "/api/v1/triggers", {
        "event_name": "plan_upgraded", "survey_id": sid, "priority": 1,
        "conditions": {"all": [{"field": "properties.plan", "op": "eq", "value": "pro"}]}}), 201)["id"]
    user = _user_outside(live_server, sampled, 50)
    events_before = live_server.services.storage.one("select count(*) as n from events")["n"]
    body = ok(live_server.post_events({"name": "plan_upgraded", "user_id": user, "properties": {"plan": "free"}},
                                      query="?dry_run=true&explain=true"))
    result = body["results"][0]
    assert body["dry_run"] is True and result["decision"] == "skip"
    # The trigger that got furthest explains the event: sampled out (stage 4) beats conditions (3).
    assert result["reason"] == "sampled_out" and result["trigger_id"] == sampled
    assert result["detail"] == f"trigger {sampled} samples 50% of users; this user is not in the sample"
    assert result["headline"] == "Would not be asked: the user is not in the trigger's sample."
    assert [(t["trigger_id"], t["reason"]) for t in result["tried"]] == [(sampled, "sampled_out"),
                                                                         (picky, "conditions_false")]
    assert result["tried"][1]["detail"] == f'trigger {picky}: properties.plan = "free", not "pro"'
    assert live_server.services.storage.one("select count(*) as n from events")["n"] == events_before


def test_explained_prompt_stops_at_the_first_trigger_that_asks(live_server: LiveServer) -> None:
    body = ok(live_server.post_events({"name": "checkout_completed", "user_id": "alice"},
                                      query="?dry_run=true&explain=true"))
    result = body["results"][0]
    assert result["decision"] == "prompt" and result["headline"].startswith("Would be asked:")
    assert len(result["tried"]) == 1 and result["tried"][0]["reason"] == "prompted"
    assert result["survey_id"] == live_server.survey_id
    assert live_server.services.storage.one("select count(*) as n from prompts")["n"] == 0


def test_without_explain_the_answer_is_unchanged(live_server: LiveServer) -> None:
    result = ok(live_server.post_events({"name": "nothing_listens", "user_id": "bob"}, query="?dry_run=true"))
    assert set(result["results"][0]) == {"event_id", "decision", "reason", "detail", "prompt_id"}
    explained = ok(live_server.post_events({"name": "nothing_listens", "user_id": "bob"},
                                           query="?dry_run=true&explain=true"))["results"][0]
    assert explained["reason"] == "no_trigger" and explained["tried"] == []
    assert explained["headline"] == "Would not be asked: no active trigger listens to this event."


def test_bad_explain_flag_is_a_400_naming_it(live_server: LiveServer) -> None:
    status, body = live_server.post_events({"name": "x", "user_id": "u"}, query="?explain=maybe")
    assert status == 400 and "explain" in body["error"]["fields"]
