"""The spine, live: event in, prompt pushed over a real websocket, answer stored, score out."""
from __future__ import annotations

import os
import time

import pytest

from ces.testing import LiveServer


def checkout(server: LiveServer, user: str, event_id: str) -> dict:
    status, body = server.post_events({"user_id": user, "name": "checkout_completed", "event_id": event_id,
                                       "properties": {"order_id": event_id, "amount": 42.5}})
    assert status == 200, body
    return body["results"][0]


def test_event_pushes_prompt_to_every_tab_of_the_user(live_server: LiveServer) -> None:
    tab1, tab2 = live_server.ws("alice"), live_server.ws("alice")
    other = live_server.ws("bob")
    result = checkout(live_server, "alice", "o-1")
    assert result["decision"] == "prompt" and result["reason"] == "prompted"
    for tab in (tab1, tab2):
        prompt = tab.expect("prompt")["prompt"]
        assert prompt["id"] == result["prompt_id"]
        assert prompt["survey"]["metric"] == "ces7"
        assert (prompt["survey"]["min"], prompt["survey"]["max"]) == (1, 7)
    assert other.recv(timeout=0.3) is None  # bob gets nothing
    row = live_server.services.storage.get_prompt(result["prompt_id"])
    assert row["status"] == "delivered"


def test_prompt_waits_for_a_user_who_connects_later(live_server: LiveServer) -> None:
    result = checkout(live_server, "carol", "o-2")
    assert live_server.services.storage.get_prompt(result["prompt_id"])["status"] == "issued"
    late = live_server.ws("carol")
    assert late.expect("prompt")["prompt"]["id"] == result["prompt_id"]


def test_expired_prompt_is_not_delivered(live_server: LiveServer) -> None:
    checkout(live_server, "dave", "o-3")
    live_server.clock.advance(8 * 86400)  # the default time-to-live is 7 days
    late = live_server.ws("dave")
    assert late.recv(timeout=0.3) is None


def test_answer_is_acked_after_commit_and_counts_in_score(live_server: LiveServer) -> None:
    tab1, tab2 = live_server.ws("erin"), live_server.ws("erin")
    prompt_id = checkout(live_server, "erin", "o-4")["prompt_id"]
    tab1.expect("prompt")
    tab2.expect("prompt")
    tab1.send({"type": "shown", "prompt": prompt_id, "id": "s1"})
    assert tab1.expect("ack")["status"] == "shown"
    tab1.send({"type": "answer", "prompt": prompt_id, "score": 6, "id": "a1"})
    ack = tab1.expect("ack")
    assert ack == {"type": "ack", "ref": "a1", "prompt": prompt_id, "status": "answered"}
    # Acked means on disk: a fresh connection to the file sees it.
    fresh = LiveStorageView(live_server.db_path)
    assert fresh.answer(prompt_id) == 6
    # The other tab is told to close the prompt.
    assert tab2.expect("close") == {"type": "close", "prompt": prompt_id, "reason": "answered"}
    score = live_server.score()
    assert score["n"] == 1 and score["headline"] == 100.0 and score["mean"] == 6.0
    assert live_server.services.storage.get_prompt(prompt_id)["status"] == "answered"


def test_second_answer_to_the_same_prompt_is_refused(live_server: LiveServer) -> None:
    tab = live_server.ws("frank")
    prompt_id = checkout(live_server, "frank", "o-5")["prompt_id"]
    tab.expect("prompt")
    tab.send({"type": "answer", "prompt": prompt_id, "score": 3, "id": "a1"})
    assert tab.expect("ack")["status"] == "answered"
    tab.send({"type": "answer", "prompt": prompt_id, "score": 7, "id": "a2"})
    err = tab.expect("error")
    assert err["code"] == "already_answered" and err["ref"] == "a2"
    # The same answer re-sent (a lost ack) is acknowledged, not stored twice.
    tab.send({"type": "answer", "prompt": prompt_id, "score": 3, "id": "a3"})
    assert tab.expect("ack")["status"] == "duplicate"
    assert live_server.score()["n"] == 1
    assert live_server.score()["distribution"]["3"] == 1


def test_answer_to_someone_elses_prompt_is_refused(live_server: LiveServer) -> None:
    prompt_id = checkout(live_server, "grace", "o-6")["prompt_id"]
    mallory = live_server.ws("mallory")
    mallory.send({"type": "answer", "prompt": prompt_id, "score": 1, "id": "x"})
    err = mallory.expect("error")
    assert err["code"] == "unknown_prompt" and err["field"] == "prompt"
    assert live_server.score()["n"] == 0
    assert live_server.services.storage.get_prompt(prompt_id)["status"] == "issued"


@pytest.mark.parametrize("score", [0, 8, -1, 6.5, "6", True])
def test_score_outside_the_scale_is_refused(live_server: LiveServer, score) -> None:
    tab = live_server.ws("heidi")
    prompt_id = checkout(live_server, "heidi", "o-7")["prompt_id"]
    tab.expect("prompt")
    tab.send({"type": "answer", "prompt": prompt_id, "score": score, "id": "a"})
    err = tab.expect("error")
    assert err["field"] == "score" and err["code"] in {"out_of_scale", "bad_message"}
    assert live_server.score()["n"] == 0
    tab.send({"type": "answer", "prompt": prompt_id, "score": 5, "id": "b"})  # still answerable
    assert tab.expect("ack")["status"] == "answered"


def test_dismiss_closes_prompt_everywhere_and_is_not_a_respondent(live_server: LiveServer) -> None:
    tab1, tab2 = live_server.ws("ivan"), live_server.ws("ivan")
    prompt_id = checkout(live_server, "ivan", "o-8")["prompt_id"]
    tab1.expect("prompt")
    tab1.send({"type": "shown", "prompt": prompt_id})
    tab1.expect("ack")
    tab1.send({"type": "dismiss", "prompt": prompt_id, "id": "d"})
    assert tab1.expect("ack")["status"] == "dismissed"
    assert tab2.expect("close")["reason"] == "dismissed"
    tab1.send({"type": "answer", "prompt": prompt_id, "score": 5, "id": "late"})
    assert tab1.expect("error")["code"] == "prompt_closed"
    assert live_server.score()["n"] == 0


def test_comment_follows_the_answer(live_server: LiveServer) -> None:
    tab = live_server.ws("judy")
    prompt_id = checkout(live_server, "judy", "o-9")["prompt_id"]
    tab.expect("prompt")
    tab.send({"type": "comment", "prompt": prompt_id, "comment": "too early", "id": "c0"})
    assert tab.expect("error")["code"] == "not_answered"
    tab.send({"type": "answer", "prompt": prompt_id, "score": 2, "id": "a"})
    tab.expect("ack")
    tab.send({"type": "comment", "prompt": prompt_id, "comment": "Payment page <b>timed out</b>", "id": "c"})
    assert tab.expect("ack")["status"] == "commented"
    assert live_server.services.storage.answer_for(prompt_id)["comment"] == "Payment page <b>timed out</b>"


def test_recontact_wait_then_asked_again_after_30_days(live_server: LiveServer) -> None:
    tab = live_server.ws("ken")
    prompt_id = checkout(live_server, "ken", "o-10")["prompt_id"]
    tab.expect("prompt")
    tab.send({"type": "answer", "prompt": prompt_id, "score": 7})
    tab.expect("ack")
    again = checkout(live_server, "ken", "o-11")
    assert again["decision"] == "skip" and again["reason"] == "recontact_wait"
    assert "wait is 30 days" in again["detail"]
    live_server.clock.advance(31 * 86400)
    assert checkout(live_server, "ken", "o-12")["reason"] == "prompted"


def test_open_prompt_blocks_a_second_one(live_server: LiveServer) -> None:
    checkout(live_server, "leo", "o-13")
    second = checkout(live_server, "leo", "o-14")
    assert second["reason"] == "prompt_open" and second["prompt_id"] is None


def test_duplicate_event_id_is_one_event(live_server: LiveServer) -> None:
    first = checkout(live_server, "mia", "o-15")
    again = checkout(live_server, "mia", "o-15")
    assert again["reason"] == "duplicate_event" and again["prompt_id"] == first["prompt_id"]
    count = live_server.services.storage.one("select count(*) as n from events where event_id = 'o-15'")["n"]
    assert count == 1


def test_batch_gets_one_result_per_event(live_server: LiveServer) -> None:
    events = [{"user_id": f"b{i}", "name": "checkout_completed", "event_id": f"b-{i}"} for i in range(50)]
    events.append({"user_id": "b0", "name": "page_viewed"})
    status, body = live_server.post_events({"events": events})
    assert status == 200
    reasons = [r["reason"] for r in body["results"]]
    assert reasons[:50] == ["prompted"] * 50 and reasons[50] == "no_trigger"


def test_client_event_needs_a_trigger_that_accepts_widget_events(live_server: LiveServer) -> None:
    tab = live_server.ws("nina")
    tab.send({"type": "event", "name": "checkout_completed", "properties": {"order_id": "x"}, "id": "e"})
    ack = tab.expect("ack")
    assert ack["decision"] == "skip" and ack["reason"] == "source_not_allowed"
    with live_server.services.storage.write() as db:
        db.execute("update triggers set source = 'any'")
    tab.send({"type": "event", "name": "checkout_completed", "properties": {"order_id": "y"}, "id": "e2"})
    assert tab.expect("ack")["reason"] == "prompted"
    assert tab.expect("prompt")["prompt"]["survey"]["metric"] == "ces7"


def test_dry_run_records_nothing(live_server: LiveServer) -> None:
    status, body = live_server.post_events({"user_id": "olga", "name": "checkout_completed"}, query="?dry_run=true")
    assert status == 200 and body["dry_run"] is True and body["results"][0]["reason"] == "prompted"
    storage = live_server.services.storage
    assert storage.one("select count(*) as n from events")["n"] == 0
    assert storage.one("select count(*) as n from prompts")["n"] == 0


def test_identity_verification_refuses_forged_user(live_server: LiveServer) -> None:
    from ces.core.identity import user_hash
    storage = live_server.services.storage
    storage.set_identity_verification(live_server.site["id"], True)
    forged = live_server.ws()
    forged.send({"type": "hello", "site": live_server.site["site_key"], "user": "victim", "user_hash": "00" * 32})
    assert forged.expect("error")["code"] == "bad_user_hash"
    good = live_server.ws()
    good.send({"type": "hello", "site": live_server.site["site_key"], "user": "victim",
               "user_hash": user_hash(live_server.site["secret_key"], "victim")})
    assert good.expect("welcome")["user"] == "victim"
    anon = live_server.ws()
    anon.send({"type": "hello", "site": live_server.site["site_key"], "user": "anon-123", "anonymous": True})
    assert anon.expect("welcome")["user"] == "anon-123"


def test_delayed_prompt_arrives_when_due(live_server: LiveServer) -> None:
    with live_server.services.storage.write() as db:
        db.execute("update triggers set delay_seconds = 1")
    tab = live_server.ws("pia")
    prompt_id = checkout(live_server, "pia", "o-16")["prompt_id"]
    assert tab.recv(timeout=0.5) is None
    assert tab.expect("prompt", timeout=5)["prompt"]["id"] == prompt_id


class LiveStorageView:
    """A separate connection (to the SQLite file or the PostgreSQL database), to check what is really stored."""

    def __init__(self, path: str) -> None:
        self.path = path

    def answer(self, prompt_id: str) -> int | None:
        from ces.testing import fresh_rows
        rows = fresh_rows(self.path, "select score from answers where prompt_id = ?", [prompt_id])
        return rows[0][0] if rows else None


def test_score_readable_with_admin_token(live_server: LiveServer) -> None:
    status, body = live_server.get(f"/api/v1/surveys/{live_server.survey_id}/score", token=live_server.admin_token)
    assert status == 200 and body["n"] == 0
    status, _ = live_server.get(f"/api/v1/surveys/{live_server.survey_id}/score", token="ces_admin_nope")
    assert status == 401


def _database_files_open(server: LiveServer) -> int:
    """File descriptors of this process (the server's) open on the database or its WAL."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        count += target.startswith(server.db_path)
    return count


def test_an_idle_socket_holds_no_database_connection(live_server: LiveServer) -> None:
    """Thousands of open sockets must not cost 2 file descriptors each for SQLite (4,000 sockets
    held 8,000 of them, the server ran out of files at 5,000, and gunicorn killed the worker).

    The sockets say hello one after the other, so one or two pooled connections serve them all.
    """
    before = _database_files_open(live_server)
    tabs = [live_server.ws(f"idle-{i}") for i in range(30)]
    # Each socket's thread gives its connection back just after sending welcome.
    deadline = time.monotonic() + 5
    while (extra := _database_files_open(live_server) - before) > 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert extra <= 4  # 60 and more when each socket kept its own
    prompt = checkout(live_server, "idle-7", "e-idle")  # and the sockets still work
    assert tabs[7].expect("prompt")["prompt"]["id"] == prompt["prompt_id"]
