"""Cancel events, live: "ask 10 minutes after the ticket is closed, unless it is reopened". The
pending prompt is closed as `cancelled`, never shown, and out of every score and rate."""
from __future__ import annotations

from ces.testing import LiveServer

from asking_support import ok, policy, prompt_status, send, survey, trigger

DELAY = 600


def ticket_trigger(server: LiveServer, **fields) -> tuple[int, int]:
    sid = survey(server, "ces5")
    tid = trigger(server, "ticket_solved", sid, delay_seconds=DELAY, cancel_events=["ticket_reopened"],
                  transaction_key="ticket_id", **fields)
    return sid, tid


def report(server: LiveServer, survey_id: int) -> dict:
    return ok(server.admin("GET", f"/api/v1/surveys/{survey_id}/report"))


def test_a_cancel_event_before_the_delay_ends_calls_the_prompt_off(live_server: LiveServer) -> None:
    policy(live_server)
    sid, tid = ticket_trigger(live_server)
    tab, control = live_server.ws("alice"), live_server.ws("bob")
    kept = send(live_server, "bob", "ticket_solved", properties={"ticket_id": "T-2"})["prompt_id"]
    called_off = send(live_server, "alice", "ticket_solved", properties={"ticket_id": "T-1"})["prompt_id"]
    before = report(live_server, sid)
    reopened = send(live_server, "alice", "ticket_reopened", properties={"ticket_id": "T-1"})
    assert reopened["cancelled"] == [called_off] and reopened["reason"] == "no_trigger"
    assert prompt_status(live_server, called_off) == "cancelled"
    live_server.clock.advance(DELAY + 1)
    # The control prompt falls due and is pushed; the cancelled one never is.
    assert control.expect("prompt", timeout=8)["prompt"]["id"] == kept
    assert tab.recv(timeout=2) is None
    assert live_server.ws("alice").recv(timeout=1) is None  # a new tab gets nothing either
    assert live_server.services.storage.deliverable_prompts(live_server.site["id"], "alice", live_server.clock()) == []
    after = report(live_server, sid)
    assert after["score"] == before["score"] and after["funnel"]["response_rate"] == before["funnel"]["response_rate"]
    assert after["funnel"]["cancelled"] == 1 and before["funnel"]["cancelled"] == 0
    assert after["funnel"]["issued"] == before["funnel"]["issued"] - 1  # it never went out
    # A cancelled prompt asked nothing: the same ticket solved again is asked about.
    again = send(live_server, "alice", "ticket_solved", properties={"ticket_id": "T-1"})
    assert again["decision"] == "prompt", again


def test_after_the_delay_the_cancel_event_changes_nothing(live_server: LiveServer) -> None:
    policy(live_server)
    ticket_trigger(live_server)
    pid = send(live_server, "carol", "ticket_solved", properties={"ticket_id": "T-9"})["prompt_id"]
    live_server.clock.advance(DELAY + 1)
    assert "cancelled" not in send(live_server, "carol", "ticket_reopened", properties={"ticket_id": "T-9"})
    assert prompt_status(live_server, pid) == "issued"


def test_same_transaction_only(live_server: LiveServer) -> None:
    policy(live_server)
    ticket_trigger(live_server, cancel_same_transaction=True)
    pid = send(live_server, "dan", "ticket_solved", properties={"ticket_id": "T-1"})["prompt_id"]
    assert "cancelled" not in send(live_server, "dan", "ticket_reopened", properties={"ticket_id": "T-2"})
    assert "cancelled" not in send(live_server, "dan", "ticket_reopened")  # no ticket id: no transaction to match
    assert "cancelled" not in send(live_server, "erin", "ticket_reopened", properties={"ticket_id": "T-1"})
    assert prompt_status(live_server, pid) == "issued"
    assert send(live_server, "dan", "ticket_reopened", properties={"ticket_id": "T-1"})["cancelled"] == [pid]


def test_cancel_in_the_same_batch(live_server: LiveServer) -> None:
    policy(live_server)
    ticket_trigger(live_server)
    status, body = live_server.post_events({"events": [
        {"user_id": "fay", "name": "ticket_solved", "properties": {"ticket_id": "T-5"}},
        {"user_id": "fay", "name": "ticket_reopened", "properties": {"ticket_id": "T-5"}},
        {"user_id": "fay", "name": "ticket_solved", "properties": {"ticket_id": "T-5"}}]})
    assert status == 200, body
    first, cancel, third = body["results"]
    assert cancel["cancelled"] == [first["prompt_id"]] and third["decision"] == "prompt"
    assert prompt_status(live_server, first["prompt_id"]) == "cancelled"
    assert prompt_status(live_server, third["prompt_id"]) == "issued"


def test_bad_cancel_events_are_refused_and_nothing_changes(live_server: LiveServer) -> None:
    count = lambda: live_server.services.storage.one("select count(*) as n from triggers")["n"]  # noqa: E731
    before = count()
    for fields, name in (({"cancel_events": ["ticket_solved"]}, "cancel_events"),
                         ({"cancel_events": "ticket_reopened"}, "cancel_events"),
                         ({"cancel_events": [""]}, "cancel_events"),
                         ({"cancel_events": ["x"], "cancel_same_transaction": True}, "cancel_same_transaction")):
        status, body = live_server.admin("POST", "/api/v1/triggers",
                                         {"event_name": "ticket_solved", "survey_id": live_server.survey_id, **fields})
        assert status == 400 and name in body["error"]["fields"], body
    assert count() == before
    tid = trigger(live_server, "ticket_solved", cancel_events=["ticket_reopened"])
    status, body = live_server.admin("PATCH", f"/api/v1/triggers/{tid}", {"event_name": "ticket_reopened"})
    assert status == 400 and "cancel_events" in body["error"]["fields"]
    got = ok(live_server.admin("GET", f"/api/v1/triggers/{tid}"))
    assert (got["event_name"], got["cancel_events"], got["cancel_same_transaction"]) == (
        "ticket_solved", ["ticket_reopened"], False)
    # PATCHing another field keeps the cancel events.
    assert ok(live_server.admin("PATCH", f"/api/v1/triggers/{tid}", {"priority": 3}))["cancel_events"] == ["ticket_reopened"]
