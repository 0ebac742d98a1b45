"""Visits, live: the widget's visit id (sent with hello and events) is known to the server, and the
fatigue policy's visit layers (`max_prompts_per_visit`, `min_visit_seconds`) decide with it."""
from __future__ import annotations

from ces.core.visits import VISIT_IDLE
from ces.testing import LiveServer

from asking_support import ok, policy, send, trigger


def snapshot(server: LiveServer) -> dict:
    return server.services.storage.get_site(server.site["id"])["settings"]


def test_two_prompts_in_one_visit_are_refused_by_a_visit_cap(live_server: LiveServer) -> None:
    policy(live_server, max_prompts_per_visit=1)
    tab = live_server.ws("shopper", visit="v-1")
    first = send(live_server, "shopper")
    assert first["decision"] == "prompt"
    assert tab.expect("prompt")["prompt"]["id"] == first["prompt_id"]
    second = send(live_server, "shopper")
    assert (second["decision"], second["reason"]) == ("skip", "visit_cap"), second
    assert second["detail"] == "1 prompts in this visit, cap is 1 per visit"
    # The same tab reloaded: the same visit, still capped.
    tab.close()
    live_server.ws("shopper", visit="v-1")
    assert send(live_server, "shopper")["reason"] == "visit_cap"
    # A new visit (another tab, or this one after 30 idle minutes) may be asked again.
    live_server.ws("shopper", visit="v-2")
    assert send(live_server, "shopper")["decision"] == "prompt"


def test_a_user_not_on_the_site_has_no_visit_to_cap(live_server: LiveServer) -> None:
    policy(live_server, max_prompts_per_visit=1)
    tab = live_server.ws("idle", visit="v-1")
    assert send(live_server, "idle")["decision"] == "prompt"
    tab.close()
    live_server.clock.advance(VISIT_IDLE)  # nothing seen for 30 minutes: the visit is over
    assert send(live_server, "idle")["decision"] == "prompt"


def test_widget_events_keep_the_visit_alive_and_may_start_a_new_one(live_server: LiveServer) -> None:
    policy(live_server, max_prompts_per_visit=1)
    trigger(live_server, "clicked_help", source="any")
    tab = live_server.ws("reader", visit="v-1")
    assert send(live_server, "reader")["decision"] == "prompt"
    live_server.clock.advance(VISIT_IDLE - 60)
    tab.send({"type": "event", "name": "clicked_help", "id": "e1", "visit": "v-1"})  # activity in the visit
    assert tab.expect("ack")["reason"] == "visit_cap"
    live_server.clock.advance(VISIT_IDLE - 60)  # 58 minutes after the visit began, 29 after the last activity
    assert send(live_server, "reader")["reason"] == "visit_cap"
    # After 30 idle minutes the widget starts a new visit id with its next event.
    live_server.clock.advance(VISIT_IDLE)
    tab.send({"type": "event", "name": "clicked_help", "id": "e2", "visit": "v-2"})
    assert tab.expect("ack")["decision"] == "prompt"
    rows = live_server.services.storage.all("select visit_id from visits where user_id = 'reader' order by started_at")
    assert [r["visit_id"] for r in rows] == ["v-1", "v-2"]


def test_no_prompt_in_the_first_seconds_of_a_visit(live_server: LiveServer) -> None:
    policy(live_server, min_visit_seconds=30)
    live_server.ws("newcomer", visit="v-1")
    early = send(live_server, "newcomer")
    assert (early["reason"], early["detail"]) == (
        "visit_start", "visit started 0 seconds ago; no prompt in the first 30 seconds of a visit"), early
    live_server.clock.advance(30)
    assert send(live_server, "newcomer")["decision"] == "prompt"


def test_visit_settings_are_validated_and_a_refusal_changes_nothing(live_server: LiveServer) -> None:
    before = snapshot(live_server)
    for body, field in (({"max_prompts_per_visit": -1}, "max_prompts_per_visit"),
                        ({"min_visit_seconds": "30"}, "min_visit_seconds"),
                        ({"min_visit_seconds": 1.5}, "min_visit_seconds")):
        status, error = live_server.admin("PUT", f"/api/v1/sites/{live_server.site['id']}/fatigue", body)
        assert status == 400 and field in error["error"]["fields"], error
    assert snapshot(live_server) == before
    got = ok(live_server.admin("PUT", f"/api/v1/sites/{live_server.site['id']}/fatigue",
                               {"max_prompts_per_visit": 2, "min_visit_seconds": 10}))
    assert (got["max_prompts_per_visit"], got["min_visit_seconds"]) == (2, 10)


def test_a_bad_visit_id_is_refused(live_server: LiveServer) -> None:
    tab = live_server.ws()
    tab.send({"type": "hello", "site": live_server.site["site_key"], "user": "u", "visit": "x" * 65, "id": "h"})
    err = tab.expect("error")
    assert (err["field"], err["ref"]) == ("visit", "h")
