"""Webhooks against a real receiver (http.server on 127.0.0.1): signatures checked by an
independent implementation, retries with backoff, slow and dead receivers, replay."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Iterator

import pytest

from ces.testing import LiveServer

from contract_helpers import Receiver


@pytest.fixture
def server(tmp_path) -> Iterator[LiveServer]:
    s = LiveServer(tmp_path / "ces.db", WEBHOOK_BACKOFF_BASE=0.2, WEBHOOK_MAX_ATTEMPTS=3, WEBHOOK_TIMEOUT=5)
    try:
        yield s
    finally:
        s.app.extensions["ces_webhooks"].stop()
        s.stop()


def independent_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks, written here from the spec (not the product's module)."""
    key = base64.b64decode(secret.split("_", 1)[1])
    mac = hmac.new(key, msg_id.encode() + b"." + timestamp.encode() + b"." + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def create_hook(server: LiveServer, url: str, **extra) -> dict:
    status, body = server.admin("POST", "/api/v1/webhooks", {"site_id": server.site["id"], "url": url, **extra})
    assert status == 201, body
    assert body["secret"].startswith("whsec_")
    return body


def answer(server: LiveServer, user: str, score: int) -> float:
    """Event, prompt over the websocket, answer; how long the answer took to be acked."""
    status, body = server.post_events({"user_id": user, "name": "checkout_completed"})
    assert body["results"][0]["decision"] == "prompt", body
    tab = server.ws(user)
    prompt_id = tab.expect("prompt")["prompt"]["id"]
    started = time.monotonic()
    tab.send({"type": "answer", "prompt": prompt_id, "score": score, "id": "a"})
    assert tab.expect("ack")["status"] == "answered"
    return time.monotonic() - started


def deliveries(server: LiveServer, hook_id: int) -> list[dict]:
    status, body = server.admin("GET", f"/api/v1/webhooks/{hook_id}/deliveries")
    assert status == 200, body
    return body["deliveries"]


def wait_status(server: LiveServer, hook_id: int, statuses: set[str], count: int = 1, timeout: float = 8.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        rows = deliveries(server, hook_id)
        if len(rows) >= count and all(r["status"] in statuses for r in rows):
            return rows
        assert time.monotonic() < deadline, rows
        time.sleep(0.05)


def test_signed_answer_created_and_high_effort(server: LiveServer) -> None:
    receiver = Receiver()
    try:
        hook = create_hook(server, receiver.url)
        answer(server, "happy", 7)
        answer(server, "unhappy", 2)
        receiver.wait(3)
        wait_status(server, hook["id"], {"succeeded"}, count=3)
        types = []
        for req in receiver.requests:
            h = req["headers"]
            expected = independent_signature(hook["secret"], h["webhook-id"], h["webhook-timestamp"], req["body"])
            assert expected in h["webhook-signature"].split()
            assert abs(int(h["webhook-timestamp"]) - time.time()) < 60
            payload = json.loads(req["body"])
            types.append((payload["type"], payload["data"]["user_id"], payload["data"]["score"]))
            assert payload["data"]["event"]["name"] == "checkout_completed"
        assert sorted(types) == [("answer.created", "happy", 7), ("answer.created", "unhappy", 2),
                                 ("answer.high_effort", "unhappy", 2)]
        # A tampered body does not verify.
        req = receiver.requests[0]
        assert independent_signature(hook["secret"], req["headers"]["webhook-id"], req["headers"]["webhook-timestamp"],
                                     req["body"] + b" ") not in req["headers"]["webhook-signature"]
    finally:
        receiver.close()


def test_a_comment_sent_after_the_score_is_notified_once(server: LiveServer) -> None:
    receiver = Receiver()
    try:
        hook = create_hook(server, receiver.url, events=["answer.commented"])
        only_answers = create_hook(server, receiver.url, events=["answer.created"])
        status, body = server.post_events({"user_id": "u1", "name": "checkout_completed"})
        tab = server.ws("u1")
        prompt_id = tab.expect("prompt")["prompt"]["id"]
        tab.send({"type": "answer", "prompt": prompt_id, "score": 2, "id": "a"})
        assert tab.expect("ack")["status"] == "answered"
        tab.send({"type": "comment", "prompt": prompt_id, "comment": "Three transfers to get a refund", "id": "c"})
        assert tab.expect("ack")["status"] == "commented"
        tab.send({"type": "comment", "prompt": prompt_id, "comment": "Three transfers to get a refund", "id": "c2"})
        assert tab.expect("ack")["status"] == "duplicate"   # re-sent: not notified again
        tab.close()
        wait_status(server, hook["id"], {"succeeded"}, count=1)
        wait_status(server, only_answers["id"], {"succeeded"}, count=1)
        commented = [json.loads(r["body"]) for r in receiver.requests
                     if json.loads(r["body"])["type"] == "answer.commented"]
        assert len(commented) == 1 and len(receiver.requests) == 2
        data = commented[0]["data"]
        assert (data["user_id"], data["score"], data["comment"], data["high_effort"]) == \
            ("u1", 2, "Three transfers to get a refund", True)
        assert data["commented_at"] and data["answered_at"] and data["event"]["name"] == "checkout_completed"
        req = next(r for r in receiver.requests if b"answer.commented" in r["body"])
        h = req["headers"]
        assert independent_signature(hook["secret"], h["webhook-id"], h["webhook-timestamp"], req["body"]) \
            in h["webhook-signature"].split()
        assert len(deliveries(server, hook["id"])) == 1 and len(deliveries(server, only_answers["id"])) == 1
    finally:
        receiver.close()


def test_retries_with_backoff_until_success(server: LiveServer) -> None:
    receiver = Receiver(fail=2)
    try:
        hook = create_hook(server, receiver.url, events=["answer.created"])
        answer(server, "u1", 5)
        receiver.wait(3)
        [row] = wait_status(server, hook["id"], {"succeeded"})
        assert row["attempts"] == 3 and row["last_status"] == 200
        ids = {r["headers"]["webhook-id"] for r in receiver.requests}
        assert len(ids) == 1  # one message, retried
        gaps = [b - a for a, b in zip(receiver.times, receiver.times[1:])]
        assert gaps[0] >= 0.15 and gaps[1] >= 0.35  # 0.2 s then 0.4 s
    finally:
        receiver.close()


def test_slow_receiver_does_not_delay_the_answer_ack(server: LiveServer) -> None:
    receiver = Receiver(delay=3.0)
    try:
        hook = create_hook(server, receiver.url, events=["answer.created"])
        took = [answer(server, f"u{k}", 6) for k in range(3)]
        assert max(took) < 0.5, took
        receiver.wait(1)
        wait_status(server, hook["id"], {"succeeded"}, count=3, timeout=12)
    finally:
        receiver.close()


def test_dead_receiver_fails_then_replay_succeeds(server: LiveServer) -> None:
    receiver = Receiver()
    url = receiver.url
    receiver.close()  # nobody listens on this port any more
    hook = create_hook(server, url, events=["answer.high_effort"], high_effort_max=4)
    assert answer(server, "u1", 4) < 0.5
    [row] = wait_status(server, hook["id"], {"failed"})
    assert row["attempts"] == 3 and row["last_status"] is None and row["last_error"]
    status, listed = server.admin("GET", f"/api/v1/webhooks/{hook['id']}/deliveries?status=failed")
    assert listed["total"] == 1
    # Replay of a succeeded delivery: a new delivery row, the same message id.
    live = Receiver()
    try:
        hook2 = create_hook(server, live.url, events=["answer.created"])
        answer(server, "u2", 6)
        [first] = wait_status(server, hook2["id"], {"succeeded"})
        status, replayed = server.admin("POST", f"/api/v1/webhooks/{hook2['id']}/deliveries/{first['id']}/replay")
        assert status == 202 and replayed["replay_of"] == first["id"]
        rows = wait_status(server, hook2["id"], {"succeeded"}, count=2)
        assert {r["replay_of"] for r in rows} == {None, first["id"]}
        live.wait(2)
        assert live.requests[0]["headers"]["webhook-id"] == live.requests[1]["headers"]["webhook-id"]
        # Replaying the failed delivery queues it again (it fails again: its receiver is dead).
        status, again = server.admin("POST", f"/api/v1/webhooks/{hook['id']}/deliveries/{row['id']}/replay")
        assert status == 202
        assert server.admin("POST", f"/api/v1/webhooks/{hook['id']}/deliveries/{first['id']}/replay")[0] == 404
    finally:
        live.close()


def test_webhook_admin_endpoints_and_bad_input(server: LiveServer) -> None:
    for url in ("ftp://example.com/x", "javascript:alert(1)", "not a url", "http://"):
        status, body = server.admin("POST", "/api/v1/webhooks", {"site_id": server.site["id"], "url": url})
        assert status == 400 and "url" in body["error"]["fields"], (url, body)
    status, body = server.admin("POST", "/api/v1/webhooks", {"site_id": 999, "url": "https://example.com/h"})
    assert status == 400 and "site_id" in body["error"]["fields"]
    status, body = server.admin("POST", "/api/v1/webhooks", {"site_id": server.site["id"], "url": "https://e.com/h",
                                                             "events": ["answer.deleted"]})
    assert status == 400 and "events" in body["error"]["fields"]
    hook = create_hook(server, "https://example.com/h")
    assert hook["events"] == ["answer.commented", "answer.created", "answer.high_effort"]  # default: every type
    status, listed = server.admin("GET", f"/api/v1/webhooks?site_id={server.site['id']}")
    assert [h["id"] for h in listed["webhooks"]] == [hook["id"]] and "secret" not in listed["webhooks"][0]
    assert server.get("/api/v1/webhooks")[0] == 401  # a site's secret key is not an admin token
    assert server.admin("GET", f"/api/v1/webhooks/{hook['id']}/deliveries?page_size=500")[0] == 400
    assert server.admin("DELETE", f"/api/v1/webhooks/{hook['id']}")[0] == 200
    assert server.admin("DELETE", f"/api/v1/webhooks/{hook['id']}")[0] == 404
    assert server.admin("GET", "/api/v1/webhooks")[1]["webhooks"] == []
