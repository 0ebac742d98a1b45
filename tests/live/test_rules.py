"""Trigger rules and the fatigue policy, live: every reason code and every fatigue level through
the real HTTP API (admin API to configure, events API to decide), a real SQLite file and, where
a prompt must be answered or dismissed, a real websocket. Waits are crossed with the server's clock."""
from __future__ import annotations

from typing import Any

import pytest

from ces.testing import LiveServer, http

from asking_support import DAY, OFF, ok


def policy(server: LiveServer, **layers: Any) -> None:
    """Every layer off except the ones given."""
    ok(server.admin("PUT", f"/api/v1/sites/{server.site['id']}/fatigue", {**OFF, **layers}))


def survey(server: LiveServer, metric: str = "ces7", **fields: Any) -> int:
    return ok(server.admin("POST", "/api/v1/surveys", {"name": f"{metric} survey", "metric": metric, **fields}), 201)["id"]


def trigger(server: LiveServer, event: str, survey_id: int | None = None, **fields: Any) -> int:
    body = {"event_name": event, "survey_id": survey_id or server.survey_id, **fields}
    return ok(server.admin("POST", "/api/v1/triggers", body), 201)["id"]


def send(server: LiveServer, user: str, name: str = "checkout_completed", query: str = "", **event: Any) -> dict:
    return ok(server.post_events({"user_id": user, "name": name, **event}, query=query))["results"][0]


def close(server: LiveServer, user: str, prompt_id: str, how: str = "answer", shown: bool = True) -> None:
    """The user sees the prompt in a real tab and answers (or dismisses) it."""
    tab = server.ws(user)
    assert tab.expect("prompt")["prompt"]["id"] == prompt_id
    if shown:
        tab.send({"type": "shown", "prompt": prompt_id, "id": "s"})
        tab.expect("ack")
    if how == "answer":
        tab.send({"type": "answer", "prompt": prompt_id, "score": 6, "id": "a"})
    else:
        tab.send({"type": "dismiss", "prompt": prompt_id, "id": "d"})
    tab.expect("ack")
    tab.close()


def prompted(result: dict) -> str:
    assert (result["decision"], result["reason"]) == ("prompt", "prompted"), result
    return result["prompt_id"]


def skipped(result: dict, reason: str) -> dict:
    assert (result["decision"], result["reason"], result["prompt_id"]) == ("skip", reason, None), result
    return result


# --------------------------------------------------------------------------- event-level reasons

def test_no_trigger(live_server: LiveServer) -> None:
    r = skipped(send(live_server, "u", "page_viewed"), "no_trigger")
    assert r["detail"] == "no active trigger for event 'page_viewed'"


def test_paused_trigger_is_no_trigger_and_resume_applies_to_the_next_event(live_server: LiveServer) -> None:
    ok(live_server.admin("POST", "/api/v1/triggers/1/pause"))
    skipped(send(live_server, "u1"), "no_trigger")
    ok(live_server.admin("POST", "/api/v1/triggers/1/resume"))
    prompted(send(live_server, "u1"))


def test_duplicate_event(live_server: LiveServer) -> None:
    first = prompted(send(live_server, "u", event_id="e-1"))
    r = skipped({**send(live_server, "u", event_id="e-1"), "prompt_id": None}, "duplicate_event")
    assert send(live_server, "u", event_id="e-1")["prompt_id"] == first and '"e-1"' in r["detail"]


def test_duplicate_event_inside_one_batch(live_server: LiveServer) -> None:
    events = [{"user_id": "u", "name": "checkout_completed", "event_id": "same"}] * 2
    results = ok(live_server.post_events({"events": events}))["results"]
    assert [r["reason"] for r in results] == ["prompted", "duplicate_event"]
    assert results[1]["prompt_id"] == results[0]["prompt_id"]


def test_one_batch_sees_its_own_prompts_and_the_stored_ones(live_server: LiveServer) -> None:
    """Histories and transactions are read once per batch: what the batch issues must count
    for its later events exactly as what was stored before it."""
    policy(live_server, one_open=True)
    ok(live_server.admin("PATCH", "/api/v1/triggers/1", {"transaction_key": "order_id"}))
    ok(live_server.admin("PATCH", f"/api/v1/surveys/{live_server.survey_id}", {"quota": {"max_prompts_per_day": 4}}))
    before = prompted(send(live_server, "old", properties={"order_id": "o-0"}))   # stored before the batch
    ev = lambda user, order: {"user_id": user, "name": "checkout_completed", "properties": {"order_id": order}}  # noqa: E731
    results = ok(live_server.post_events({"events": [
        ev("old", "o-9"),    # open prompt stored before the batch
        ev("a", "o-1"),      # prompted
        ev("a", "o-2"),      # a's prompt issued just above is open
        ev("b", "o-1"),      # o-1 was asked about just above, for another user
        ev("c", "o-0"),      # o-0 was asked about before the batch
        ev("d", "o-3"),      # prompted: the 3rd prompt today
        ev("e", "o-4"),      # prompted: the 4th
        ev("f", "o-5"),      # the quota of 4 a day is reached inside the batch
    ]}))["results"]
    assert [r["reason"] for r in results] == ["prompt_open", "prompted", "prompt_open", "transaction_seen",
                                              "transaction_seen", "prompted", "prompted", "quota_reached"]
    assert before in results[0]["detail"] and results[1]["prompt_id"] in results[2]["detail"]
    assert results[1]["prompt_id"] in results[3]["detail"] and before in results[4]["detail"]
    # Everything the batch issued is stored: the next batch sees it the same way.
    again = ok(live_server.post_events({"events": [ev("a", "o-7"), ev("g", "o-4")]}))["results"]
    assert [r["reason"] for r in again] == ["prompt_open", "transaction_seen"]


def test_stale_event(live_server: LiveServer) -> None:
    ok(live_server.admin("PATCH", "/api/v1/triggers/1", {"ttl_seconds": 3600}))
    r = skipped(send(live_server, "u", timestamp="2020-01-01T00:00:00Z"), "stale_event")
    assert "prompts live 1 hour" in r["detail"]
    prompted(send(live_server, "u", timestamp="2099-01-01T00:00:00Z"))  # from the future: not stale


# --------------------------------------------------------------------------- per-trigger reasons

def test_conditions_on_properties(live_server: LiveServer) -> None:
    ok(live_server.admin("PATCH", "/api/v1/triggers/1", {"conditions": {"all": [
        {"field": "properties.amount", "op": "gte", "value": 50},
        {"field": "properties.country", "op": "in", "value": ["FR", "RO"]}]}}))
    r = skipped(send(live_server, "u1", properties={"amount": 20, "country": "FR"}), "conditions_false")
    assert r["detail"] == "trigger 1: properties.amount = 20 is not >= 50"
    skipped(send(live_server, "u1", properties={"amount": 60, "country": "US"}), "conditions_false")
    prompted(send(live_server, "u1", properties={"amount": 60, "country": "RO"}))


def test_conditions_on_user_traits(live_server: LiveServer) -> None:
    ok(live_server.admin("PATCH", "/api/v1/triggers/2", {"conditions": {"any": [
        {"field": "traits.plan", "op": "eq", "value": "pro"}]}}))
    skipped(send(live_server, "u1", "ticket_closed"), "conditions_false")
    status, _ = http("POST", live_server.url + "/api/v1/identify", {"user_id": "u1", "traits": {"plan": "pro"}},
                     live_server.site["secret_key"])
    assert status == 200
    prompted(send(live_server, "u1", "ticket_closed"))


def test_source_not_allowed_then_any(live_server: LiveServer) -> None:
    tab = live_server.ws("w1")
    tab.send({"type": "event", "name": "checkout_completed", "id": "e1"})
    ack = tab.expect("ack")
    assert ack["reason"] == "source_not_allowed"
    ok(live_server.admin("PATCH", "/api/v1/triggers/1", {"source": "any"}))
    tab.send({"type": "event", "name": "checkout_completed", "id": "e2"})
    assert tab.expect("ack")["reason"] == "prompted"


def test_sampled_out_is_sticky(live_server: LiveServer) -> None:
    ok(live_server.admin("PATCH", "/api/v1/triggers/1", {"sample_rate": 30}))
    reasons = {u: send(live_server, u, query="?dry_run=true")["reason"] for u in (f"s{i}" for i in range(200))}
    share = sum(r == "prompted" for r in reasons.values()) / len(reasons)
    assert 0.15 < share < 0.45
    assert set(reasons.values()) == {"prompted", "sampled_out"}
    for user, reason in list(reasons.items())[:20]:  # the same answer every time
        assert send(live_server, user, query="?dry_run=true")["reason"] == reason
    out = next(u for u, r in reasons.items() if r == "sampled_out")
    assert "samples 30% of users" in send(live_server, out)["detail"]


def test_variants_are_sticky_per_user(live_server: LiveServer) -> None:
    csat = survey(live_server, "csat5")
    ok(live_server.admin("PATCH", "/api/v1/triggers/1", {"variants": [
        {"survey_id": live_server.survey_id, "weight": 50, "label": "ces"}, {"survey_id": csat, "weight": 50}]}))
    chosen = {}
    for i in range(60):
        r = send(live_server, f"v{i}", query="?dry_run=true")
        chosen[f"v{i}"] = r["detail"]
    assert {d.rsplit(" ", 1)[1] for d in chosen.values()} == {str(live_server.survey_id), str(csat)}
    for user, detail in list(chosen.items())[:10]:
        assert send(live_server, user, query="?dry_run=true")["detail"] == detail
    for user in ("v0", "v1", "v2", "v3", "v4", "v5"):
        prompt = live_server.services.storage.get_prompt(prompted(send(live_server, user)))
        assert str(prompt["survey_id"]) == chosen[user].rsplit(" ", 1)[1]
        # The variant is recorded on the prompt, for the reports: its label, else the survey id.
        assert prompt["variant"] == ("ces" if prompt["survey_id"] == live_server.survey_id else str(csat))


def test_survey_paused(live_server: LiveServer) -> None:
    ok(live_server.admin("POST", f"/api/v1/surveys/{live_server.survey_id}/pause"))
    r = skipped(send(live_server, "u"), "survey_paused")
    assert r["detail"] == f"survey {live_server.survey_id} is paused"
    ok(live_server.admin("POST", f"/api/v1/surveys/{live_server.survey_id}/resume"))
    prompted(send(live_server, "u"))


def test_transaction_seen_across_events_users_and_triggers(live_server: LiveServer) -> None:
    policy(live_server)  # no fatigue at all: only the transaction rule can stop a second prompt
    ok(live_server.admin("PATCH", "/api/v1/triggers/1", {"transaction_key": "order_id"}))
    trigger(live_server, "order_delivered", transaction_key="order_id")
    first = prompted(send(live_server, "u1", properties={"order_id": "o-1"}))
    r = skipped(send(live_server, "u1", properties={"order_id": "o-1"}), "transaction_seen")
    assert r["detail"] == f'order_id "o-1" already has prompt {first}'
    skipped(send(live_server, "u1", "order_delivered", properties={"order_id": "o-1"}), "transaction_seen")
    prompted(send(live_server, "u1", properties={"order_id": "o-2"}))
    prompted(send(live_server, "u1", properties={"order_id": 1}))   # a number is another transaction
    prompted(send(live_server, "u1", properties={}))                # no order_id: the rule does not apply
    stored = live_server.services.storage.get_prompt(first)["transaction"]
    assert stored == 'order_id="o-1"'


# --------------------------------------------------------------------------- the fatigue levels

def test_prompt_open_blocks_until_answered(live_server: LiveServer) -> None:
    policy(live_server, one_open=True)
    first = prompted(send(live_server, "u"))
    r = skipped(send(live_server, "u", "ticket_closed"), "prompt_open")
    assert first in r["detail"] and "(issued)" in r["detail"]
    close(live_server, "u", first)
    prompted(send(live_server, "u"))


def test_recontact_wait_any_survey(live_server: LiveServer) -> None:
    policy(live_server, recontact_wait=10 * DAY)
    nps = survey(live_server, "nps")
    trigger(live_server, "onboarded", nps)
    close(live_server, "u", prompted(send(live_server, "u")))
    live_server.clock.advance(3 * DAY)
    r = skipped(send(live_server, "u", "onboarded"), "recontact_wait")
    assert r["detail"] == "last prompt shown 3 days ago, wait is 10 days"
    live_server.clock.advance(7 * DAY)
    prompted(send(live_server, "u", "onboarded"))


def test_type_wait_per_metric_type(live_server: LiveServer) -> None:
    policy(live_server, type_wait=14 * DAY)
    ces5 = survey(live_server, "ces5")
    nps = survey(live_server, "nps")
    trigger(live_server, "setup_done", ces5)
    trigger(live_server, "onboarded", nps)
    close(live_server, "u", prompted(send(live_server, "u")))  # ces7
    live_server.clock.advance(2 * DAY)
    r = skipped(send(live_server, "u", "setup_done"), "type_wait")  # ces5 is the same type
    assert r["detail"] == "last ces prompt shown 2 days ago, wait is 14 days"
    close(live_server, "u", prompted(send(live_server, "u", "onboarded")))  # nps is not blocked
    live_server.clock.advance(12 * DAY)
    prompted(send(live_server, "u", "setup_done"))


def test_survey_wait_per_survey(live_server: LiveServer) -> None:
    policy(live_server, survey_wait=90 * DAY)
    other = survey(live_server, "ces7")
    trigger(live_server, "setup_done", other)
    close(live_server, "u", prompted(send(live_server, "u")))
    live_server.clock.advance(40 * DAY)
    r = skipped(send(live_server, "u", "ticket_closed"), "survey_wait")  # same survey, other trigger
    assert r["detail"] == f"survey {live_server.survey_id} last shown 40 days ago, wait is 90 days"
    prompted(send(live_server, "u", "setup_done"))  # another survey of the same type


def test_user_cap_in_a_rolling_window(live_server: LiveServer) -> None:
    policy(live_server, max_prompts=2, max_prompts_window=30 * DAY)
    for _ in range(2):
        close(live_server, "u", prompted(send(live_server, "u")))
        live_server.clock.advance(DAY)
    r = skipped(send(live_server, "u"), "user_cap")
    assert r["detail"] == "2 prompts in the last 30 days, cap is 2"
    live_server.clock.advance(29 * DAY)  # the first one left the window
    prompted(send(live_server, "u"))


def test_dismissal_counts_toward_the_wait_and_unseen_expiry_does_not(live_server: LiveServer) -> None:
    policy(live_server, recontact_wait=10 * DAY)
    close(live_server, "d", prompted(send(live_server, "d")), how="dismiss")
    skipped(send(live_server, "d"), "recontact_wait")
    prompted(send(live_server, "x"))            # never shown...
    live_server.clock.advance(8 * DAY)          # ...and expired (ttl 7 days): not a contact
    prompted(send(live_server, "x"))


def test_default_policy_counts_open_prompts_first(live_server: LiveServer) -> None:
    ok(live_server.admin("PUT", f"/api/v1/sites/{live_server.site['id']}/fatigue", {}))
    assert ok(live_server.admin("GET", f"/api/v1/sites/{live_server.site['id']}/fatigue"))["survey_wait"] == 90 * DAY
    prompted(send(live_server, "u"))
    skipped(send(live_server, "u"), "prompt_open")


# --------------------------------------------------------------------------- quotas

def test_daily_prompt_quota_rolls_over_at_utc_midnight(live_server: LiveServer) -> None:
    policy(live_server)
    ok(live_server.admin("PATCH", f"/api/v1/surveys/{live_server.survey_id}", {"quota": {"max_prompts_per_day": 2}}))
    prompted(send(live_server, "a"))
    prompted(send(live_server, "b"))
    r = skipped(send(live_server, "c"), "quota_reached")
    assert r["detail"] == "2 prompts today (UTC), quota is 2"
    live_server.clock.advance(DAY)
    prompted(send(live_server, "c"))


def test_a_raised_quota_asks_again_and_counts_stop_at_the_limit(live_server: LiveServer) -> None:
    policy(live_server)
    path = f"/api/v1/surveys/{live_server.survey_id}"
    ok(live_server.admin("PATCH", path, {"quota": {"max_prompts_per_day": 2}}))
    for user in "abc":
        send(live_server, user)
    assert skipped(send(live_server, "d"), "quota_reached")["detail"] == "2 prompts today (UTC), quota is 2"
    ok(live_server.admin("PATCH", path, {"quota": {"max_prompts_per_day": 3}}))  # applies to the next event
    prompted(send(live_server, "d"))
    assert skipped(send(live_server, "e"), "quota_reached")["detail"] == "3 prompts today (UTC), quota is 3"
    # The count behind a quota reads no further than the limit: what the check needs, at any volume.
    storage, day = live_server.services.storage, live_server.clock() - 60
    assert storage.rules_survey_counts(live_server.survey_id, day, (2, None, 1, 0)) == (2, 0, 1, 0)
    assert storage.rules_survey_counts(live_server.survey_id, day, (10, 10, 10, None)) == (3, 0, 3, 0)


def test_total_answer_quota(live_server: LiveServer) -> None:
    policy(live_server)
    ok(live_server.admin("PATCH", f"/api/v1/surveys/{live_server.survey_id}", {"quota": {"max_answers_total": 1}}))
    close(live_server, "a", prompted(send(live_server, "a")))
    r = skipped(send(live_server, "b"), "quota_reached")
    assert r["detail"] == "1 answers in total, quota is 1"
    live_server.clock.advance(5 * DAY)
    skipped(send(live_server, "b"), "quota_reached")   # a total never rolls over


# --------------------------------------------------------------------------- arbitration, delay

def test_priority_decides_which_trigger_asks(live_server: LiveServer) -> None:
    nps = survey(live_server, "nps")
    high = trigger(live_server, "checkout_completed", nps, priority=10)
    r = prompted(send(live_server, "u"))
    assert live_server.services.storage.get_prompt(r)["trigger_id"] == high


def test_furthest_trigger_explains_the_skip(live_server: LiveServer) -> None:
    policy(live_server, recontact_wait=30 * DAY)
    close(live_server, "u", prompted(send(live_server, "u")))
    trigger(live_server, "checkout_completed", priority=10,
            conditions={"all": [{"field": "properties.amount", "op": "gte", "value": 50}]})
    r = skipped(send(live_server, "u", properties={"amount": 5}), "recontact_wait")
    assert r["detail"].startswith("last prompt shown")


def test_delay_and_ttl_from_the_trigger(live_server: LiveServer) -> None:
    ok(live_server.admin("PATCH", "/api/v1/triggers/1", {"delay_seconds": 120, "ttl_seconds": 600}))
    prompt = live_server.services.storage.get_prompt(prompted(send(live_server, "u")))
    assert prompt["deliver_after"] - prompt["created_at"] == pytest.approx(120)
    assert prompt["expires_at"] - prompt["created_at"] == pytest.approx(600)


# --------------------------------------------------------------------------- explaining

def test_user_decisions_newest_first(live_server: LiveServer) -> None:
    send(live_server, "alice", event_id="1")
    send(live_server, "alice", event_id="2")
    send(live_server, "alice", "page_viewed", event_id="3")
    send(live_server, "bob", event_id="4")
    body = ok(live_server.admin("GET", "/api/v1/users/alice/decisions"))
    assert body["total"] == 3 and [d["event_id"] for d in body["items"]] == ["3", "2", "1"]
    assert [d["reason"] for d in body["items"]] == ["no_trigger", "prompt_open", "prompted"]
    assert body["items"][2]["prompt_id"] and body["items"][0]["name"] == "page_viewed"
    assert ok(live_server.admin("GET", "/api/v1/users/alice/decisions?limit=1"))["items"][0]["event_id"] == "3"
    assert live_server.admin("GET", "/api/v1/users/alice/decisions?limit=501")[0] == 400
    assert live_server.get("/api/v1/users/alice/decisions")[0] == 401  # a secret key is not an admin token


def test_user_decisions_needs_a_site_when_there_are_several(live_server: LiveServer) -> None:
    other = live_server.services.storage.create_site("Other", live_server.clock())
    status, body = live_server.admin("GET", "/api/v1/users/alice/decisions")
    assert status == 400 and "site" in body["error"]["fields"]
    assert ok(live_server.admin("GET", f"/api/v1/users/alice/decisions?site={other['id']}"))["total"] == 0
    assert live_server.admin("GET", "/api/v1/users/alice/decisions?site=999")[0] == 400


def test_dry_run_answers_and_records_nothing(live_server: LiveServer) -> None:
    ok(live_server.admin("PATCH", "/api/v1/triggers/1", {"transaction_key": "order_id"}))
    storage = live_server.services.storage
    r = send(live_server, "u", query="?dry_run=true", properties={"order_id": "o"})
    assert r["reason"] == "prompted" and r["prompt_id"]
    assert storage.one("select count(*) as n from prompts")["n"] == 0
    assert storage.one("select count(*) as n from events")["n"] == 0
    prompted(send(live_server, "u", properties={"order_id": "o"}))  # the dry run left no transaction behind
    assert ok(live_server.admin("GET", "/api/v1/users/u/decisions"))["total"] == 1


def test_policy_change_applies_to_an_already_open_widget_socket(live_server: LiveServer) -> None:
    ok(live_server.admin("PATCH", "/api/v1/triggers/1", {"source": "any"}))
    tab = live_server.ws("sock")
    tab.send({"type": "event", "name": "checkout_completed", "id": "e1"})
    assert tab.expect("ack")["reason"] == "prompted"
    tab.send({"type": "event", "name": "checkout_completed", "id": "e2"})
    assert tab.expect("ack")["reason"] == "prompt_open"
    policy(live_server, one_open=False)  # while the socket stays open
    tab.send({"type": "event", "name": "checkout_completed", "id": "e3"})
    assert tab.expect("ack")["reason"] == "prompted"
