"""Rotating secrets without downtime, on the test clock: the old site secret key keeps working for
events and user hashes during the grace period and stops after it; a rotated webhook secret signs
beside the new one (two signatures in one header) during the overlap, then no more."""
from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess
import sys
from pathlib import Path

from ces.core.identity import user_hash
from ces.testing import LiveServer, WsClient, http

from contract_helpers import Receiver, answer_through_widget

CES = str(Path(sys.executable).with_name("ces"))
DAY = 86400


def events_status(server: LiveServer, key: str) -> int:
    return http("POST", f"{server.url}/api/v1/events", {"user_id": "u", "name": "page_viewed"}, key)[0]


def hello(server: LiveServer, user: str, user_hash_: str) -> dict:
    client = WsClient(server.ws_url)
    server._clients.append(client)
    client.send({"type": "hello", "site": server.site["site_key"], "user": user, "user_hash": user_hash_})
    message = client.recv()
    client.close()
    return message  # type: ignore[return-value]


def test_old_site_key_works_for_the_grace_period_then_stops(live_server: LiveServer) -> None:
    s = live_server
    site_id, old = s.site["id"], s.site["secret_key"]
    assert s.admin("PATCH", f"/api/v1/sites/{site_id}", {"identity_verification": True})[0] == 200
    status, rotated = s.admin("POST", f"/api/v1/sites/{site_id}/rotate-secret")
    assert status == 200 and rotated["secret_key"] != old and rotated["secret_key"].startswith("sk_")
    assert rotated["previous_secret_expires_at"] is not None
    new = rotated["secret_key"]
    assert s.admin("GET", f"/api/v1/sites/{site_id}")[1]["previous_secret_expires_at"] == \
        rotated["previous_secret_expires_at"]
    # Inside the grace period (the default: 24 h) both keys work, for events and for user hashes.
    s.clock.advance(DAY - 60)
    assert events_status(s, old) == 200 and events_status(s, new) == 200
    assert hello(s, "alice", user_hash(old, "alice"))["type"] == "welcome"
    assert hello(s, "bob", user_hash(new, "bob"))["type"] == "welcome"
    # After it, only the new one.
    s.clock.advance(120)
    assert events_status(s, old) == 401 and events_status(s, new) == 200
    refused = hello(s, "alice", user_hash(old, "alice"))
    assert refused["type"] == "error" and refused["code"] == "bad_user_hash"
    assert hello(s, "alice", user_hash(new, "alice"))["type"] == "welcome"
    assert s.admin("GET", f"/api/v1/sites/{site_id}")[1]["previous_secret_expires_at"] is None


def test_grace_period_is_configurable_and_a_second_rotation_ends_the_first(tmp_path) -> None:
    s = LiveServer(tmp_path / "ces.db", SECRET_GRACE_SECONDS=3600)
    try:
        site_id, first = s.site["id"], s.site["secret_key"]
        second = s.admin("POST", f"/api/v1/sites/{site_id}/rotate-secret")[1]["secret_key"]
        s.clock.advance(3500)
        assert events_status(s, first) == 200
        s.clock.advance(200)
        assert events_status(s, first) == 401 and events_status(s, second) == 200
        # A grace period per call; 0 stops the old key at once.
        third = s.admin("POST", f"/api/v1/sites/{site_id}/rotate-secret", {"grace_seconds": 0})[1]
        assert third["previous_secret_expires_at"] is None
        assert events_status(s, second) == 401 and events_status(s, third["secret_key"]) == 200
        # Two rotations in a row: only the last replaced key is still in its grace period.
        fourth = s.admin("POST", f"/api/v1/sites/{site_id}/rotate-secret", {"grace_seconds": 600})[1]["secret_key"]
        fifth = s.admin("POST", f"/api/v1/sites/{site_id}/rotate-secret", {"grace_seconds": 600})[1]["secret_key"]
        assert events_status(s, third["secret_key"]) == 401
        assert events_status(s, fourth) == 200 and events_status(s, fifth) == 200
        for bad in ({"grace_seconds": -1}, {"grace_seconds": "1h"}, {"grace_seconds": 10**9}, {"grace": 5}):
            status, answer = s.admin("POST", f"/api/v1/sites/{site_id}/rotate-secret", bad)
            assert status == 400 and answer["error"]["code"] == "validation_error", answer
        assert events_status(s, fifth) == 200  # refused rotations changed nothing
    finally:
        s.stop()


def test_cli_rotate_secret(live_server: LiveServer) -> None:
    s = live_server
    old = s.site["secret_key"]
    out = subprocess.run([CES, "site", "rotate-secret", s.site["site_key"], "--db", s.db_path, "--grace", "2h"],
                         capture_output=True, text=True, check=True)
    new = out.stdout.strip()
    assert new.startswith("sk_") and new != old and "the old one works until" in out.stderr
    assert events_status(s, new) == 200 and events_status(s, old) == 200
    s.clock.advance(2 * 3600 + 1)
    assert events_status(s, old) == 401
    bad = subprocess.run([CES, "site", "rotate-secret", s.site["site_key"], "--db", s.db_path, "--grace", "soon"],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "duration" in bad.stderr
    assert events_status(s, new) == 200


def _signature(secret: str, headers: dict, body: bytes) -> str:
    """Standard Webhooks, from the spec (not the product's module)."""
    key = base64.b64decode(secret.split("_", 1)[1])
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def test_webhook_secret_rotation_signs_twice_during_the_overlap(tmp_path) -> None:
    s = LiveServer(tmp_path / "ces.db", WEBHOOK_BACKOFF_BASE=0.2)
    receiver = Receiver()
    try:
        status, hook = s.admin("POST", "/api/v1/webhooks", {"site_id": s.site["id"], "url": receiver.url,
                                                            "events": ["answer.created"]})
        assert status == 201
        old = hook["secret"]
        status, rotated = s.admin("POST", f"/api/v1/webhooks/{hook['id']}/rotate-secret", {"grace_seconds": 3600})
        assert status == 200 and rotated["secret"] != old and rotated["previous_secret_expires_at"] is not None
        assert s.admin("GET", f"/api/v1/webhooks/{hook['id']}")[1]["secret"] == rotated["secret"]
        answer_through_widget(s, s.site, "u1", "checkout_completed", 6)
        receiver.wait(1)
        first = receiver.requests[0]
        signatures = first["headers"]["webhook-signature"].split(" ")
        assert signatures == [_signature(rotated["secret"], first["headers"], first["body"]),
                              _signature(old, first["headers"], first["body"])]
        # After the overlap, the new secret alone.
        s.clock.advance(3601)
        answer_through_widget(s, s.site, "u2", "ticket_closed", 5)
        receiver.wait(2)
        second = receiver.requests[1]
        assert second["headers"]["webhook-signature"] == _signature(rotated["secret"], second["headers"], second["body"])
        assert s.admin("GET", f"/api/v1/webhooks/{hook['id']}")[1]["previous_secret_expires_at"] is None
    finally:
        receiver.close()
        s.app.extensions["ces_webhooks"].stop()
        s.stop()
