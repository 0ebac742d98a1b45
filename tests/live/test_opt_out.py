"""Opt-out through the public API (secret key), the admin API and the SDK: the user is never asked
again on the site — from any trigger, from backend or widget events, delayed or pending prompts
included — and the decision says `opted_out`."""
from __future__ import annotations

import hashlib
import time

import ces_sdk
from _privacy import DAY, cells_containing
from ces.testing import LiveServer, http


def _opt_out(server: LiveServer, user: str, token: str | None = None, query: str = "") -> tuple[int, dict]:
    return http("POST", f"{server.url}/api/v1/users/{user}/opt-out{query}", {}, token or server.site["secret_key"])


def _decide(server: LiveServer, user: str, name: str) -> dict:
    status, body = server.post_events({"user_id": user, "name": name})
    assert status == 200, body
    return body["results"][0]


def test_no_prompt_after_opt_out_from_any_trigger_backend_or_widget(live_server: LiveServer) -> None:
    s = live_server
    status, widget_trigger = s.admin("POST", "/api/v1/triggers", {
        "event_name": "help_opened", "survey_id": s.survey_id, "source": "any"})
    assert status == 201, widget_trigger
    status, delayed = s.admin("POST", "/api/v1/triggers", {
        "event_name": "order_shipped", "survey_id": s.survey_id, "delay_seconds": 1})
    assert status == 201, delayed
    # A delayed prompt is already waiting for alice when she opts out.
    first = _decide(s, "alice", "order_shipped")
    assert first["decision"] == "prompt"
    status, body = _opt_out(s, "alice")
    assert status == 200 and body["opted_out"] and body["already"] is False and body["prompts_closed"] == 1
    assert s.services.storage.get_prompt(first["prompt_id"])["status"] == "expired"
    tab = s.ws("alice")
    # Backend events, every trigger, long after any wait: always opted_out.
    for days in (0, 40, 400):
        s.clock.advance(days * DAY)
        for name in ("checkout_completed", "ticket_closed", "order_shipped", "help_opened"):
            result = _decide(s, "alice", name)
            assert (result["decision"], result["reason"], result["prompt_id"]) == ("skip", "opted_out", None), result
        tab.send({"type": "event", "name": "help_opened", "id": f"w{days}"})
        ack = tab.expect("ack")
        assert (ack["decision"], ack["reason"]) == ("skip", "opted_out")
    # An event no trigger matches keeps its own reason, also beside one that says opted_out.
    assert _decide(s, "alice", "page_viewed")["reason"] == "no_trigger"
    status, body = s.post_events({"events": [{"user_id": "alice", "name": "ticket_closed"},
                                             {"user_id": "alice", "name": "page_viewed"},
                                             {"user_id": "bob", "name": "page_viewed"}]})
    assert [r["reason"] for r in body["results"]] == ["opted_out", "no_trigger", "no_trigger"]
    # Nothing ever reached her screen, the delayed prompt included (well past its delay).
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        msg = tab.recv(timeout=max(0.01, deadline - time.monotonic()))
        assert msg is None or msg["type"] != "prompt", msg
    assert s.services.storage.one("select count(*) as n from prompts where user_id = 'alice' "
                                  "and status in ('issued','delivered','shown')")["n"] == 0
    # The decisions endpoint explains it; another user is still asked.
    status, decisions = s.admin("GET", "/api/v1/users/alice/decisions")
    assert decisions["items"][0]["reason"] == "no_trigger" and decisions["items"][1]["reason"] == "opted_out"
    assert _decide(s, "bob", "checkout_completed")["decision"] == "prompt"
    # Said twice: still one opt-out, reported as already there.
    status, again = _opt_out(s, "alice")
    assert status == 200 and again["already"] is True
    assert s.admin("GET", "/api/v1/audit?action=user.opt_out")[1]["total"] == 1  # the repeat changed nothing


def test_opt_out_by_admin_undo_and_bad_input(live_server: LiveServer) -> None:
    s = live_server
    status, body = _opt_out(s, "carol", token=s.admin_token, query=f"?site={s.site['id']}")
    assert status == 200 and body["site_id"] == s.site["id"]
    assert _decide(s, "carol", "checkout_completed")["reason"] == "opted_out"
    status, _ = http("DELETE", f"{s.url}/api/v1/users/carol/opt-out", token=s.site["secret_key"])
    assert status == 200
    assert _decide(s, "carol", "checkout_completed")["decision"] == "prompt"
    status, err = http("DELETE", f"{s.url}/api/v1/users/carol/opt-out", token=s.site["secret_key"])
    assert status == 404 and "user_id" in err["error"]["fields"]
    # Bad input: nothing stored.
    assert _opt_out(s, "dave", token="sk_wrong")[0] == 401
    status, err = _opt_out(s, "x" * 300)
    assert status == 400 and "user_id" in err["error"]["fields"]
    status, err = _opt_out(s, "dave", token=s.admin_token, query="?site=42")
    assert status == 400 and "site" in err["error"]["fields"]
    status, err = _opt_out(s, "dave", query="?site=42")  # a secret key acts on its own site only
    assert status == 400 and "site" in err["error"]["fields"]
    assert s.services.storage.one("select count(*) as n from opt_outs")["n"] == 0
    # Audit: who opted whom out (hashed), and the undo.
    status, log = s.admin("GET", "/api/v1/audit?action=user.")
    assert [e["action"] for e in log["items"]] == ["user.opt_in", "user.opt_out"]
    assert log["items"][0]["actor"]["kind"] == "site" and log["items"][1]["actor"]["kind"] == "token"


def test_opt_out_outlives_erasure_without_keeping_the_id(live_server: LiveServer) -> None:
    s = live_server
    assert _decide(s, "erin-5521", "checkout_completed")["decision"] == "prompt"
    assert _opt_out(s, "erin-5521")[0] == 200
    assert s.admin("DELETE", "/api/v1/users/erin-5521")[0] == 200
    assert cells_containing(s.db_path, ["erin-5521"]) == []
    digest = hashlib.sha256(b"erin-5521").hexdigest()
    assert s.services.storage.one("select user_sha256 from opt_outs")["user_sha256"] == digest
    assert _decide(s, "erin-5521", "checkout_completed")["reason"] == "opted_out"


def test_sdk_opt_out(live_server: LiveServer) -> None:
    s = live_server
    client = ces_sdk.Client(s.site["secret_key"], s.url, sync_mode=True)
    try:
        assert client.opt_out("frank/with slash") is True
        assert client.track("frank/with slash", "checkout_completed")["reason"] == "opted_out"
        assert client.track("grace", "checkout_completed")["decision"] == "prompt"
        assert client.opt_out("frank/with slash") is True  # already: still True
    finally:
        client.shutdown()
    wrong = ces_sdk.Client("sk_wrong", s.url, max_retries=0)
    assert wrong.opt_out("frank", timeout=2) is False  # refused: logged, never raised
    wrong.shutdown()
    down = ces_sdk.Client(s.site["secret_key"], "http://127.0.0.1:9", backoff_base=0.05)
    started = time.monotonic()
    assert down.opt_out("frank", timeout=0.5) is False and time.monotonic() - started < 3
    down.shutdown()
    assert ces_sdk.Client("", disabled=True).opt_out("frank") is None
    # The command line.
    import subprocess
    import sys
    run = subprocess.run([sys.executable, "-m", "ces_sdk", "opt-out", "--user", "heidi"], capture_output=True,
                         text=True, timeout=60, env={"CES_SECRET_KEY": s.site["secret_key"], "CES_HOST": s.url})
    assert run.returncode == 0 and '"opted_out": true' in run.stdout, run.stderr
    assert client_decision(s, "heidi") == "opted_out"


def client_decision(server: LiveServer, user: str) -> str:
    return _decide(server, user, "checkout_completed")["reason"]
