"""The SDK against the real CES server (``live_server`` from tests/conftest.py): events arrive in
order per user and once, decisions come back in sync mode, traits are stored, the user hash is
the one the server verifies over a real websocket, and the CLI works end to end."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytestmark = pytest.mark.timeout(60)


def stored_events(live_server) -> list:
    """The events table as a fresh connection to the database sees it."""
    from ces.testing import fresh_dicts
    return fresh_dicts(live_server.db_path, "select * from events where site_id = ? order by id", [live_server.site["id"]])


def test_events_arrive_once_and_in_order_per_user(live_server, make_client):
    client = make_client(live_server.url, secret_key=live_server.site["secret_key"], flush_at=7)
    sent = []
    for i in range(60):
        user = f"user-{i % 4}"
        client.track(user, "page_viewed" if i % 5 else "checkout_completed", {"i": i, "amount": 10.5})
        sent.append((user, i))
    assert client.flush(timeout=20)
    assert client.stats.snapshot()["sent"] == 60
    rows = stored_events(live_server)
    assert len(rows) == 60
    assert len({r["event_id"] for r in rows}) == 60
    for n in range(4):
        mine = [json.loads(r["properties"])["i"] for r in rows if r["user_id"] == f"user-{n}"]
        assert mine == [i for user, i in sent if user == f"user-{n}"]
    assert {r["decision"] for r in rows} <= {"prompt", "skip"}


class LosingProxy:
    """Forwards to the real server, but answers 502 to the first ``lose`` requests *after* the
    server has stored them: the answer is lost on the way back, the client must retry."""

    def __init__(self, upstream: str, lose: int, port: int = 0) -> None:
        self.lose = lose
        self.forwarded = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # noqa: D401
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = urllib.request.Request(upstream + self.path, data=body, method="POST", headers={
                    "Content-Type": "application/json", "Authorization": self.headers["Authorization"]})
                try:
                    with urllib.request.urlopen(request, timeout=10) as answer:
                        status, data = answer.status, answer.read()
                except urllib.error.HTTPError as error:
                    status, data = error.code, error.read()
                proxy.forwarded += 1
                if proxy.lose > 0:
                    proxy.lose -= 1
                    status, data = 502, b'{"error": "bad gateway"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()  # stop() quick

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_retries_after_lost_answers_do_not_double_count(live_server, make_client):
    proxy = LosingProxy(live_server.url, lose=2)
    try:
        client = make_client(proxy.url, secret_key=live_server.site["secret_key"], flush_at=50)
        for i in range(10):
            client.track(f"u{i % 2}", "checkout_completed", {"i": i})
        assert client.flush(timeout=20)
    finally:
        proxy.stop()
    assert proxy.forwarded == 3  # stored, answer lost; stored again (duplicates); answered
    rows = stored_events(live_server)
    assert sorted(json.loads(r["properties"])["i"] for r in rows) == list(range(10))
    assert client.stats.snapshot()["sent"] == 10


def test_server_down_then_up_gets_every_event_once(live_server, make_client, unused_port):
    """The client starts while nothing answers on its host; then the real server comes up there
    (a forwarding proxy on that port stands for it) and receives every event exactly once."""
    client = make_client(f"http://127.0.0.1:{unused_port}", secret_key=live_server.site["secret_key"],
                         flush_at=5, backoff_base=0.05, backoff_max=0.2, max_retries=100)
    for i in range(20):
        client.track(f"u{i % 3}", "checkout_completed", {"i": i})
    assert client.flush(timeout=0.5) is False  # still down: flush gives up waiting, nothing is lost
    assert client.stats.snapshot()["retries"] >= 1
    proxy = LosingProxy(live_server.url, lose=0, port=unused_port)
    try:
        assert client.flush(timeout=20)
    finally:
        proxy.stop()
    rows = stored_events(live_server)
    assert [json.loads(r["properties"])["i"] for r in rows] == list(range(20))
    assert client.stats.snapshot()["sent"] == 20 and client.stats.snapshot()["failed"] == 0


def test_sync_mode_returns_the_decision(live_server, make_client):
    client = make_client(live_server.url, secret_key=live_server.site["secret_key"], sync_mode=True)
    first = client.track("alice", "checkout_completed", {"order_id": "o-1"}, event_id="o-1")
    assert first["event_id"] == "o-1"
    assert first["decision"] == "prompt" and first["reason"] == "prompted" and first["prompt_id"]
    again = client.track("alice", "checkout_completed", {"order_id": "o-1"}, event_id="o-1")
    assert again["decision"] == "skip" and again["reason"] == "duplicate_event"
    assert again["prompt_id"] == first["prompt_id"]
    assert len(stored_events(live_server)) == 1


def test_converted_types_are_accepted_by_the_server(live_server, make_client):
    import datetime as dt
    import decimal
    import uuid
    client = make_client(live_server.url, secret_key=live_server.site["secret_key"], sync_mode=True)
    props = {"at": dt.datetime(2026, 1, 1, 12, 0), "day": dt.date(2026, 1, 1), "total": decimal.Decimal("42.50"),
             "order": uuid.UUID(int=7), "tags": {"a"}, "nested": {"b": {"c": 1}}}
    result = client.track("bob", "page_viewed", props)
    assert result is not None and result["decision"] == "skip"
    stored = json.loads(stored_events(live_server)[0]["properties"])
    assert stored == {"at": "2026-01-01T12:00:00+00:00", "day": "2026-01-01", "total": 42.5,
                      "order": "00000000-0000-0000-0000-000000000007", "tags": ["a"], "nested": {"b": {"c": 1}}}


def test_client_side_limits_match_the_server(live_server, make_client):
    """What the SDK refuses up front is what the server would refuse, and vice versa."""
    client = make_client(live_server.url, secret_key=live_server.site["secret_key"], sync_mode=True)
    too_deep = {"a": {"b": {"c": {"d": 1}}}}
    with pytest.raises(ValueError, match="nested deeper"):
        client.track("u1", "e", too_deep)
    status, body = live_server.post_events({"user_id": "u1", "name": "e", "properties": too_deep})
    assert status == 400
    at_limit = {f"k{i}": [{"x": {"y": 1}}] for i in range(64)}
    assert client.track("u1", "e", at_limit) is not None


def test_identify_stores_traits(live_server, make_client):
    client = make_client(live_server.url, secret_key=live_server.site["secret_key"])
    client.identify("carol", {"plan": "pro", "country": "FR"})
    client.identify("carol", {"country": None, "seats": 3})
    assert client.flush(timeout=10)
    assert live_server.services.storage.traits(live_server.site["id"], "carol") == {"plan": "pro", "seats": 3}


def test_wrong_secret_key_is_one_logged_401(live_server, make_client, caplog):
    client = make_client(live_server.url, secret_key="sk_not_the_key", flush_at=3)
    with caplog.at_level(logging.ERROR, logger="ces_sdk"):
        for i in range(9):
            client.track("u1", "e", {"i": i})
        assert client.flush(timeout=10)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "401" in errors[0].getMessage()
    stats = client.stats.snapshot()
    assert stats["requests"] == 3 and stats["retries"] == 0 and stats["failed"] == 9
    assert stored_events(live_server) == []


def test_user_hash_is_what_the_server_verifies(live_server, make_client):
    from ces.core.identity import user_hash as server_user_hash
    secret_key = live_server.site["secret_key"]
    client = make_client(live_server.url, secret_key=secret_key)
    for user in ("u1", "42", "ünïcødé-user", "a" * 256):
        assert client.user_hash(user) == server_user_hash(secret_key, user)
    assert client.user_hash(42) == server_user_hash(secret_key, "42")

    live_server.services.storage.set_identity_verification(live_server.site["id"], True)
    good = live_server.ws()
    good.send({"type": "hello", "site": live_server.site["site_key"], "user": "u1",
               "user_hash": client.user_hash("u1")})
    assert good.expect("welcome")["user"] == "u1"
    bad = live_server.ws()
    bad.send({"type": "hello", "site": live_server.site["site_key"], "user": "u1",
              "user_hash": client.user_hash("u2")})
    assert bad.expect("error")["code"] == "bad_user_hash"


def test_command_line_track_against_the_real_server(live_server):
    env = {**os.environ, "CES_SECRET_KEY": live_server.site["secret_key"], "CES_HOST": live_server.url}
    out = subprocess.run(
        [sys.executable, "-m", "ces_sdk", "track", "--user", "dana", "--event", "ticket_closed",
         "--prop", "channel=chat", "--json-prop", "minutes=12", "--event-id", "t-9"],
        env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["event_id"] == "t-9" and result["decision"] == "prompt"
    row = stored_events(live_server)[0]
    assert row["name"] == "ticket_closed" and json.loads(row["properties"]) == {"channel": "chat", "minutes": 12}

    out = subprocess.run([sys.executable, "-m", "ces_sdk", "identify", "--user", "dana", "--trait", "plan=pro"],
                         env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert live_server.services.storage.traits(live_server.site["id"], "dana") == {"plan": "pro"}

    bad = subprocess.run([sys.executable, "-m", "ces_sdk", "track", "--user", "dana", "--event", "x"],
                         env={**env, "CES_SECRET_KEY": "sk_wrong"}, capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and "401" in bad.stderr
