"""Occurrence conditions, live: "after the third onboarding step", "at least N times in the last D
days", counted from the stored events, exact when events arrive at the same time."""
from __future__ import annotations

import threading

from ces.testing import LiveServer

from asking_support import DAY, ok, policy, send, trigger


def test_the_third_onboarding_step_prompts_and_the_second_and_fourth_do_not(live_server: LiveServer) -> None:
    policy(live_server)
    trigger(live_server, "onboarding_step", occurrences=[{"nth": 3}])
    results = [send(live_server, "newbie", "onboarding_step", properties={"step": i}) for i in (1, 2, 3, 4)]
    assert [r["decision"] for r in results] == ["skip", "skip", "prompt", "skip"]
    assert results[1]["detail"].endswith("onboarding_step sent 2 times, wants the 3rd one")
    assert results[3]["reason"] == "occurrences_false"
    # Another user counts on their own.
    assert send(live_server, "other", "onboarding_step")["decision"] == "skip"


def test_dry_runs_and_duplicates_are_not_occurrences(live_server: LiveServer) -> None:
    policy(live_server)
    trigger(live_server, "login", occurrences=[{"nth": 2}])
    send(live_server, "u", "login", event_id="l-1")
    assert ok(live_server.post_events({"user_id": "u", "name": "login"}, query="?dry_run=true"))["results"][0][
        "decision"] == "prompt"  # the dry run says the 2nd would prompt...
    assert send(live_server, "u", "login", event_id="l-1")["reason"] == "duplicate_event"  # ...a duplicate is not one
    assert send(live_server, "u", "login")["decision"] == "prompt"  # ...and this is the real 2nd


def test_at_least_n_times_in_the_last_d_days(live_server: LiveServer) -> None:
    policy(live_server)
    trigger(live_server, "dashboard_opened", occurrences=[{"event": "report_exported", "at_least": 3, "within_days": 7}])
    send(live_server, "analyst", "report_exported")
    live_server.clock.advance(3 * DAY)
    send(live_server, "analyst", "report_exported")
    r = send(live_server, "analyst", "dashboard_opened")
    assert (r["reason"], r["detail"]) == ("occurrences_false",
                                          "trigger 3: report_exported sent 2 times in the last 7 days, wants at least 3")
    send(live_server, "analyst", "report_exported")
    assert send(live_server, "analyst", "dashboard_opened")["decision"] == "prompt"
    live_server.clock.advance(5 * DAY)  # the first export is now 8 days old
    assert send(live_server, "analyst", "dashboard_opened")["reason"] == "occurrences_false"


def test_the_nth_is_exact_under_concurrency(live_server: LiveServer) -> None:
    """12 events of one user from 6 threads at once: exactly one of them is the 3rd."""
    policy(live_server)
    trigger(live_server, "onboarding_step", occurrences=[{"nth": 3}])
    results: list[dict] = []
    lock, start = threading.Lock(), threading.Barrier(6)

    def worker() -> None:
        start.wait()
        for _ in range(2):
            status, body = live_server.post_events({"user_id": "racer", "name": "onboarding_step"})
            assert status == 200
            with lock:
                results.append(body["results"][0])

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 12 and sum(r["decision"] == "prompt" for r in results) == 1
    assert live_server.services.storage.one("select count(*) as n from prompts where user_id = 'racer'")["n"] == 1


def test_occurrences_in_one_batch(live_server: LiveServer) -> None:
    policy(live_server)
    trigger(live_server, "onboarding_step", occurrences=[{"nth": 3}])
    status, body = live_server.post_events({"events": [{"user_id": "b", "name": "onboarding_step"}] * 4})
    assert status == 200 and [r["decision"] for r in body["results"]] == ["skip", "skip", "prompt", "skip"]


def test_bad_occurrences_are_a_400_naming_the_field(live_server: LiveServer) -> None:
    count = lambda: live_server.services.storage.one("select count(*) as n from triggers")["n"]  # noqa: E731
    before = count()
    for occurrences, field in (([{"nth": 0}], "nth"), ([{"at_least": -1}], "at_least"),
                               ([{"at_least": 2, "within_days": 0}], "within_days"),
                               ([{"event": "login", "nth": 2}], "event"), ([{"nth": 1, "when": 2}], "when")):
        status, body = live_server.admin("POST", "/api/v1/triggers", {
            "event_name": "onboarding_step", "survey_id": live_server.survey_id, "occurrences": occurrences})
        assert status == 400 and field in body["error"]["fields"]["occurrences"]["0"], body
    status, body = live_server.admin("POST", "/api/v1/triggers", {
        "event_name": "x", "survey_id": live_server.survey_id, "occurrences": {"nth": 3}})
    assert status == 400 and "occurrences" in body["error"]["fields"]
    assert count() == before
