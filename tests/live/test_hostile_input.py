"""Every hostile input gets a 4xx or a protocol error naming the problem, never a 5xx or `internal`;
every JSON the server writes is strict JSON; every CSV cell is safe to open in a spreadsheet;
every response says `nosniff`, HTML pages carry a content security policy.

All against one real server per test (LiveServer: real SQLite file, real sockets)."""
from __future__ import annotations

import csv
import io
import json
import math
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ces.storage.webhooks import WebhookStore
from ces.testing import LiveServer, http

DEEP = 10_000


# --------------------------------------------------------------------------- helpers

@pytest.fixture(scope="module")
def shared_server(tmp_path_factory) -> Any:
    """One server for the refusals (each checks that it changed nothing): a server per case would
    spend most of this file's time starting and stopping."""
    server = LiveServer(tmp_path_factory.mktemp("hostile") / "shared.db")
    yield server
    server.stop()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_loads(text: str | bytes) -> Any:
    """JSON as a strict parser reads it: no NaN/Infinity, no lone surrogates anywhere."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")  # strict: raw surrogates fail here
    value = json.loads(text, parse_constant=_refuse_constant)
    _no_lone_surrogates(value)
    return value


def _no_lone_surrogates(value: Any) -> None:
    if isinstance(value, str):
        value.encode("utf-8")  # UnicodeEncodeError on a lone surrogate
    elif isinstance(value, dict):
        for k, v in value.items():
            k.encode("utf-8")
            _no_lone_surrogates(v)
    elif isinstance(value, list):
        for v in value:
            _no_lone_surrogates(v)
    elif isinstance(value, float):
        assert math.isfinite(value)


def raw_request(server: LiveServer, method: str, path: str, raw: bytes | None, token: str | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
    """(status, body bytes, headers) of one request with a hand-written body."""
    req = urllib.request.Request(server.url + path, data=raw, method=method, headers=dict(headers or {}))
    if raw is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers


def post_json_text(server: LiveServer, path: str, text: str, token: str | None = None) -> tuple[int, Any]:
    status, body, _ = raw_request(server, "POST", path, text.encode("utf-8", "surrogatepass"),
                                  token or server.site["secret_key"])
    return status, strict_loads(body) if body else None


def counts(server: LiveServer) -> dict[str, int]:
    storage = server.services.storage
    return {t: storage.one(f"select count(*) as n from {t}")["n"]  # type: ignore[index]
            for t in ("events", "prompts", "answers", "users", "surveys", "triggers", "webhooks")}


def field_paths(fields: Any, prefix: str = "") -> set[str]:
    """The dotted paths of a nested `fields` object: {"events": {"0": {"user_id": [...]}}} -> events.0.user_id."""
    out: set[str] = set()
    if isinstance(fields, dict):
        for k, v in fields.items():
            out |= field_paths(v, f"{prefix}{k}.") or {f"{prefix}{k}"}
    return out


def prompted_tab(server: LiveServer, user: str, event_id: str | None = None, **hello: Any) -> tuple[Any, str]:
    """A connected tab of `user` with a prompt on screen; (tab, prompt id)."""
    tab = server.ws(user, **hello)
    body: dict[str, Any] = {"user_id": user, "name": "checkout_completed"}
    if event_id:
        body["event_id"] = event_id
    status, answer = server.post_events(body)
    assert status == 200, answer
    prompt_id = answer["results"][0]["prompt_id"]
    assert prompt_id, answer
    tab.expect("prompt")
    return tab, prompt_id


# --------------------------------------------------------------------------- deep JSON

@pytest.mark.parametrize("text", ["[" * DEEP + "]" * DEEP, '{"a":' * DEEP + "1" + "}" * DEEP,
                                  '{"user_id": "u", "name": "x", "properties": {"a": ' + "[" * DEEP + "]" * DEEP + "}}",
                                  "[" * DEEP])
def test_deep_json_body_is_a_400(shared_server: LiveServer, text: str) -> None:
    before = counts(shared_server)
    status, answer = post_json_text(shared_server, "/api/v1/events", text)
    assert status == 400, answer
    assert answer["error"]["code"] == "bad_json"
    status, answer = post_json_text(shared_server, "/api/v1/surveys", text, shared_server.admin_token)
    assert status == 400 and answer["error"]["code"] == "bad_json", answer
    assert counts(shared_server) == before


def test_deep_json_over_the_websocket_is_bad_message(live_server: LiveServer) -> None:
    tab = live_server.ws("deep-user")
    text = '{"type": "event", "id": "deep", "name": "x", "properties": {"a": ' + "[" * 5000 + "]" * 5000 + "}}"
    tab.send(text)
    err = tab.expect("error")
    assert err["code"] == "bad_message", err
    tab.send("[" * DEEP)
    assert tab.expect("error")["code"] in ("bad_message", "bad_json")
    tab.send({"type": "shown", "prompt": "p_nope", "id": "still-here"})
    assert tab.expect("error")["ref"] == "still-here"


def test_brackets_inside_strings_do_not_count_as_depth(live_server: LiveServer) -> None:
    body = {"user_id": "u-brackets", "name": "x", "event_id": "[" * 100,
            "properties": {"note": "{[" * 300 + '\\"]' * 40, "k": ["]]]", "[[["]}}
    status, answer = live_server.post_events(body)
    assert status == 200, answer
    stored = live_server.services.storage.one("select properties from events where user_id = 'u-brackets'")
    assert stored["properties"] == body["properties"]  # type: ignore[index]


# --------------------------------------------------------------------------- lone surrogates, NUL

SURROGATE = "\ud800"
BAD_TEXT_EVENTS = [
    ({"user_id": "a" + SURROGATE, "name": "checkout_completed"}, "user_id"),
    ({"user_id": "u", "name": SURROGATE}, "name"),
    ({"user_id": "u", "name": "checkout_completed", "event_id": "e" + "\udfff"}, "event_id"),
    ({"user_id": "u", "name": "x", "properties": {"k": "v" + SURROGATE}}, "properties.k"),
    ({"user_id": "u", "name": "x", "properties": {"k" + SURROGATE: 1}}, "properties"),
    ({"user_id": "u", "name": "x", "properties": {"list": ["ok", SURROGATE]}}, "properties.list"),
    ({"user_id": "u\x00v", "name": "checkout_completed"}, "user_id"),
    ({"user_id": "u", "name": "check\x00out"}, "name"),
    ({"user_id": "u", "name": "x", "event_id": "\x00"}, "event_id"),
    ({"events": [{"user_id": "ok", "name": "x"}, {"user_id": SURROGATE, "name": "x"}]}, "events.1.user_id"),
]


@pytest.mark.parametrize("body,field", BAD_TEXT_EVENTS)
def test_bad_text_in_an_event_is_a_400_naming_the_field(shared_server: LiveServer, body: dict, field: str) -> None:
    before = counts(shared_server)
    status, answer = post_json_text(shared_server, "/api/v1/events", json.dumps(body))
    assert status == 400, answer
    assert answer["error"]["code"] == "validation_error", answer
    assert any(p == field or p.startswith(field + ".") for p in field_paths(answer["error"]["fields"])), answer
    assert counts(shared_server) == before


def test_a_valid_surrogate_pair_is_fine(live_server: LiveServer) -> None:
    # json.dumps writes the emoji as the escaped pair \ud83d\ude00: one valid character.
    status, answer = live_server.post_events({"user_id": "emoji-\U0001F600", "name": "x",
                                              "properties": {"mood": "\U0001F600"}})
    assert status == 200, answer
    row = live_server.services.storage.one("select user_id from events where user_id like 'emoji-%'")
    assert row["user_id"] == "emoji-\U0001F600"  # type: ignore[index]


def test_raw_utf8_encoded_surrogate_bytes_are_refused(live_server: LiveServer) -> None:
    before = counts(live_server)
    raw = b'{"user_id": "a\xed\xa0\x80", "name": "checkout_completed"}'
    status, body, _ = raw_request(live_server, "POST", "/api/v1/events", raw, live_server.site["secret_key"])
    assert status == 400, body
    assert strict_loads(body)["error"]["code"] == "bad_json"
    assert counts(live_server) == before


@pytest.mark.parametrize("path,body,field", [
    ("/api/v1/identify", {"user_id": SURROGATE, "traits": {}}, "user_id"),
    ("/api/v1/identify", {"user_id": "u", "traits": {"plan": SURROGATE}}, "traits.plan"),
    ("/api/v1/identify", {"users": [{"user_id": "u", "traits": {"x\x00": 1}}]}, "users.0.traits"),
])
def test_bad_text_in_identify_is_a_400(shared_server: LiveServer, path: str, body: dict, field: str) -> None:
    before = counts(shared_server)
    status, answer = post_json_text(shared_server, path, json.dumps(body))
    assert status == 400 and answer["error"]["code"] == "validation_error", answer
    assert any(p == field or p.startswith(field + ".") for p in field_paths(answer["error"]["fields"])), answer
    assert counts(shared_server) == before


@pytest.mark.parametrize("method,path,body,field", [
    ("POST", "/api/v1/surveys", {"name": "N" + SURROGATE, "metric": "nps"}, "name"),
    ("POST", "/api/v1/surveys", {"name": "N", "metric": "nps", "texts": {"fr" + SURROGATE: {"question": "q"}}}, "texts"),
    ("POST", "/api/v1/triggers", {"event_name": "e" + SURROGATE, "survey_id": 1}, "event_name"),
    ("POST", "/api/v1/triggers", {"event_name": "e\x00", "survey_id": 1}, "event_name"),
    ("PATCH", "/api/v1/surveys/1", {"name": SURROGATE}, "name"),
    ("POST", "/api/v1/webhooks", {"site_id": 1, "url": "https://example.com/h", "description": SURROGATE},
     "description"),
    ("POST", "/api/v1/answers/1/follow-up", {"followed_up": SURROGATE}, "followed_up"),
])
def test_bad_text_in_admin_bodies_is_a_400(shared_server: LiveServer, method: str, path: str, body: dict,
                                           field: str) -> None:
    before = counts(shared_server)
    status, raw, _ = raw_request(shared_server, method, path, json.dumps(body).encode(), shared_server.admin_token)
    answer = strict_loads(raw)
    assert status == 400 and answer["error"]["code"] == "validation_error", answer
    assert any(p == field or p.startswith(field + ".") for p in field_paths(answer["error"]["fields"])), answer
    assert counts(shared_server) == before


@pytest.mark.parametrize("path,param", [
    ("/api/v1/users/a%00b/decisions", "user_id"),
    ("/api/v1/users/a%ED%A0%80b/decisions", "user_id"),
    ("/api/v1/users/u/decisions?site=%00", "site"),
    ("/api/v1/triggers?event_name=x%00y", "event_name"),
    ("/api/v1/triggers?event_name=x%ED%A0%80", "event_name"),
    ("/api/v1/surveys/1/comments?q=%FF%FE", "q"),
])
def test_bad_text_in_the_url_is_a_400_naming_the_parameter(shared_server: LiveServer, path: str, param: str) -> None:
    status, raw, _ = raw_request(shared_server, "GET", path, None, shared_server.admin_token)
    answer = strict_loads(raw)
    assert status == 400, answer
    assert param in answer["error"]["fields"], answer


def test_bad_text_over_the_websocket_hello(live_server: LiveServer) -> None:
    for field, hello in (("user", {"user": "u" + SURROGATE}), ("locale", {"user": "u", "locale": "fr" + SURROGATE}),
                         ("traits.plan", {"user": "u", "traits": {"plan": SURROGATE}}),
                         ("user", {"user": "u\x00"}), ("site", {"site": SURROGATE, "user": "u"})):
        tab = live_server.ws()
        tab.send(json.dumps({"type": "hello", "site": live_server.site["site_key"], "id": "h1", **hello}))
        err = tab.expect("error")
        assert err["code"] == "bad_message" and err["field"] == field and err["ref"] == "h1", (hello, err)
    assert counts(live_server)["users"] == 0


@pytest.mark.parametrize("message,field", [
    ({"type": "identify", "user": "v" + SURROGATE}, "user"),
    ({"type": "identify", "user": "v", "locale": SURROGATE}, "locale"),
    ({"type": "identify", "user": "v", "traits": {SURROGATE: 1}}, "traits"),
    ({"type": "event", "name": "checkout" + SURROGATE}, "name"),
    ({"type": "event", "name": "checkout_completed", "event_id": SURROGATE}, "event_id"),
    ({"type": "event", "name": "checkout_completed", "properties": {"a": [SURROGATE]}}, "properties.a"),
    ({"type": "event", "name": "x\x00"}, "name"),
    ({"type": "reset", "user": "anon-" + SURROGATE}, "user"),
    ({"type": "shown", "prompt": "p" + SURROGATE}, "prompt"),
])
def test_bad_text_over_the_websocket_right_after_welcome(shared_server: LiveServer, message: dict, field: str) -> None:
    before = counts(shared_server)
    tab = shared_server.ws("ws-user")
    tab.send(json.dumps({**message, "id": "m1"}))
    err = tab.expect("error")
    assert err["code"] == "bad_message" and err["ref"] == "m1", err
    assert err["field"] == field or err["field"].startswith(field + "."), err  # properties.a.0: the list item
    assert counts(shared_server) == before
    tab.send({"type": "shown", "prompt": "p_nope", "id": "still-here"})
    assert tab.expect("error")["ref"] == "still-here"


def test_bad_text_in_answer_and_comment_over_the_websocket(live_server: LiveServer) -> None:
    tab, prompt_id = prompted_tab(live_server, "commenter")
    tab.send(json.dumps({"type": "answer", "prompt": prompt_id, "score": 3, "comment": "bad" + SURROGATE, "id": "a1"}))
    err = tab.expect("error")
    assert (err["code"], err["field"], err["ref"]) == ("bad_message", "comment", "a1"), err
    assert counts(live_server)["answers"] == 0
    tab.send({"type": "answer", "prompt": prompt_id, "score": 3, "id": "a2"})
    assert tab.expect("ack")["ref"] == "a2"
    tab.send(json.dumps({"type": "comment", "prompt": prompt_id, "comment": SURROGATE + "x", "id": "c1"}))
    err = tab.expect("error")
    assert (err["code"], err["field"], err["ref"]) == ("bad_message", "comment", "c1"), err
    assert live_server.services.storage.one("select comment from answers")["comment"] is None  # type: ignore[index]


# --------------------------------------------------------------------------- NaN, Infinity, huge numbers

@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "-1e400"])
def test_non_finite_numbers_are_refused_over_http(shared_server: LiveServer, literal: str) -> None:
    before = counts(shared_server)
    text = '{"user_id": "u", "name": "x", "properties": {"amount": %s}}' % literal
    status, answer = post_json_text(shared_server, "/api/v1/events", text)
    assert status == 400, answer
    assert "properties.amount" in field_paths(answer["error"]["fields"]), answer
    text = '{"name": "s", "metric": "nps", "appearance": {"size": %s}}' % literal
    status, answer = post_json_text(shared_server, "/api/v1/surveys", text, shared_server.admin_token)
    assert status == 400 and "appearance.size" in field_paths(answer["error"]["fields"]), answer
    assert counts(shared_server) == before


@pytest.mark.parametrize("literal", ["NaN", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused_over_the_websocket(shared_server: LiveServer, literal: str) -> None:
    before = counts(shared_server)
    tab = shared_server.ws("nan-user")
    tab.send('{"type": "event", "id": "n1", "name": "x", "properties": {"amount": %s}}' % literal)
    err = tab.expect("error")
    assert (err["code"], err["field"], err["ref"]) == ("bad_message", "properties.amount", "n1"), err
    assert counts(shared_server) == before


@pytest.mark.parametrize("body,field", [
    ({"name": "s", "metric": "nps", "site_id": 10 ** 30}, "site_id"),
    ({"event_name": "e", "survey_id": 10 ** 30}, "survey_id"),
    ({"event_name": "e", "survey_id": 1, "variants": [{"survey_id": -10 ** 25, "weight": 100}]}, "variants"),
])
def test_huge_integers_are_a_400(shared_server: LiveServer, body: dict, field: str) -> None:
    path = "/api/v1/surveys" if "metric" in body else "/api/v1/triggers"
    status, answer = shared_server.admin("POST", path, body)
    assert status == 400, answer
    assert field in answer["error"]["fields"], answer
    status, answer = shared_server.admin("POST", "/api/v1/webhooks", {"site_id": 10 ** 30, "url": "https://e.com/"})
    assert status == 400 and "site_id" in answer["error"]["fields"], answer
    status, answer = shared_server.admin("GET", "/api/v1/surveys?offset=100000000000000000000000")
    assert status == 400 and "offset" in answer["error"]["fields"], answer


def test_every_json_the_server_writes_is_strict_json(live_server: LiveServer) -> None:
    """Even from rows an older version stored with NaN/Infinity in them (it accepted them)."""
    tab, prompt_id = prompted_tab(live_server, "nan-legacy", event_id="legacy-1")
    tab.send({"type": "answer", "prompt": prompt_id, "score": 2, "comment": "slow"})
    tab.expect("ack")
    storage = live_server.services.storage
    with storage.write() as db:
        db.execute("update events set properties = ? where event_id = 'legacy-1'",
                   ['{"amount":NaN,"wait":Infinity,"delta":-Infinity,"note":"to Infinity"}'])
    sid = live_server.survey_id
    for path in ("/api/v1/users/nan-legacy/decisions", f"/api/v1/surveys/{sid}/report",
                 f"/api/v1/surveys/{sid}/report?driver=amount", f"/api/v1/surveys/{sid}/at-risk",
                 f"/api/v1/surveys/{sid}/comments", f"/api/v1/surveys/{sid}/score", "/api/v1/surveys",
                 "/api/v1/triggers", "/api/v1/sites"):
        status, raw, headers = raw_request(live_server, "GET", path, None, live_server.admin_token)
        assert status == 200, (path, raw)
        strict_loads(raw)
    status, raw, _ = raw_request(live_server, "GET", "/api/v1/users/nan-legacy/decisions", None,
                                 live_server.admin_token)
    props = strict_loads(raw)["items"][0]["properties"]
    assert props == {"amount": None, "wait": None, "delta": None, "note": "to Infinity"}
    status, raw, _ = raw_request(live_server, "GET", f"/api/v1/surveys/{sid}/export?format=jsonl", None,
                                 live_server.admin_token)
    lines = raw.decode().splitlines()
    assert len(lines) == 1
    assert strict_loads(lines[0])["properties"] == props


# --------------------------------------------------------------------------- message type

@pytest.mark.parametrize("text", ['{"type": [], "id": "t1"}', '{"type": {}, "id": "t1"}', '{"type": 5, "id": "t1"}',
                                  '{"id": "t1"}', '{"type": null, "id": "t1"}', '{"type": "x" , "id": "t1"}',
                                  '{"type": [[["hello"]]], "id": "t1"}', '{"type": true, "id": "t1"}'])
def test_unknown_or_malformed_type_is_bad_message_with_the_ref(shared_server: LiveServer, text: str) -> None:
    for tab in (shared_server.ws(), shared_server.ws("typed-user")):  # before and after hello
        tab.send(text)
        err = tab.expect("error")
        assert (err["code"], err["field"], err["ref"]) == ("bad_message", "type", "t1"), err
        tab.send({"type": "shown", "prompt": "p_nope", "id": "still-here"})
        assert tab.expect("error")["ref"] == "still-here"


def test_an_internal_error_carries_the_ref(live_server: LiveServer) -> None:
    """When the database fails under a message (here: its events table is gone), the `internal`
    error still names the message it answers, as docs/protocol.md promises."""
    tab = live_server.ws("internal-user")
    with live_server.services.storage.write() as db:
        db.execute("alter table events rename to events_gone")
    try:
        tab.send({"type": "event", "name": "checkout_completed", "id": "ev-ref"})
        err = tab.expect("error")
        assert (err["code"], err["ref"]) == ("internal", "ev-ref"), err
    finally:
        with live_server.services.storage.write() as db:
            db.execute("alter table events_gone rename to events")
    tab.send({"type": "event", "name": "checkout_completed", "id": "ev-2"})
    assert tab.expect("ack")["ref"] == "ev-2"


# --------------------------------------------------------------------------- URLs

@pytest.mark.parametrize("url", ["http://[::1", "http://", "javascript:alert(1)", "https://exa mple.com/",
                                 "http://example.com:99999/", "http://example.com:port/", "ftp://example.com/",
                                 "//example.com/hook", "http://user:pw@", "http://[::1]x/", "https://exa\tmple.com/",
                                 "http://\u2028.com/", "https://" + "a" * 300 + ".com/"])
def test_bad_webhook_urls_are_a_400_naming_url(shared_server: LiveServer, url: str) -> None:
    before = counts(shared_server)
    status, answer = shared_server.admin("POST", "/api/v1/webhooks", {"site_id": shared_server.site["id"], "url": url})
    assert status == 400, (url, answer)
    assert "url" in answer["error"]["fields"], answer
    assert counts(shared_server) == before


@pytest.mark.parametrize("url", ["https://example.com/hook", "http://127.0.0.1:8080/x?y=1", "http://[::1]:9000/h",
                                 "https://bücher.example/hook"])
def test_good_webhook_urls_are_accepted(shared_server: LiveServer, url: str) -> None:
    status, answer = shared_server.admin("POST", "/api/v1/webhooks", {"site_id": shared_server.site["id"], "url": url})
    assert status == 201, answer
    assert answer["url"] == url


# --------------------------------------------------------------------------- CSV formula cells

FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+2", "-1+2", "@SUM(1,2)", "\tTAB", "\rCR"]


def _seed_formula_answers(server: LiveServer) -> None:
    for i, text in enumerate(FORMULAS):
        user = text if i < 4 else f"plain-{i}"  # a user id may start with a formula character too
        tab, prompt_id = prompted_tab(server, user, event_id=f"={i}+1", locale="@fr" if i == 0 else "fr")
        tab.send({"type": "shown", "prompt": prompt_id})
        tab.expect("ack")
        tab.send({"type": "answer", "prompt": prompt_id, "score": 1 + i, "comment": text})
        tab.expect("ack")


def _check_csv(text: str) -> None:
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(FORMULAS)
    for row in rows:
        for name, cell in row.items():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell)
    by_comment = {r["comment"]: r for r in rows}
    for i, text in enumerate(FORMULAS):
        row = by_comment["'" + text]
        assert row["event_id"] == f"'={i}+1"
        assert row["score"] == str(1 + i)  # numbers stay numbers
        if i < 4:
            assert row["user_id"] == "'" + text
    assert by_comment["'" + FORMULAS[0]]["locale"] == "'@fr"


def test_csv_export_neutralises_formula_cells(live_server: LiveServer) -> None:
    _seed_formula_answers(live_server)
    sid = live_server.survey_id
    status, raw, _ = raw_request(live_server, "GET", f"/api/v1/surveys/{sid}/export?format=csv", None,
                                 live_server.admin_token)
    assert status == 200
    _check_csv(raw.decode())
    # JSON lines stay exact.
    status, raw, _ = raw_request(live_server, "GET", f"/api/v1/surveys/{sid}/export?format=jsonl", None,
                                 live_server.admin_token)
    records = [strict_loads(line) for line in raw.decode().splitlines()]
    assert sorted(r["comment"] for r in records) == sorted(FORMULAS)
    assert {r["event_id"] for r in records} == {f"={i}+1" for i in range(len(FORMULAS))}


def test_cli_export_neutralises_formula_cells(live_server: LiveServer, tmp_path) -> None:
    from click.testing import CliRunner

    from ces.cli import main

    _seed_formula_answers(live_server)
    out = tmp_path / "answers.csv"
    result = CliRunner().invoke(main, ["export", str(live_server.survey_id), "--db", live_server.db_path,
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    _check_csv(out.read_bytes().decode("utf-8"))  # bytes: read_text would turn a CR cell into LF


# --------------------------------------------------------------------------- security headers

def test_every_response_says_nosniff(live_server: LiveServer) -> None:
    for method, path, token in (("GET", "/healthz", None), ("GET", "/widget.js", None),
                                ("GET", "/api/v1/surveys", live_server.admin_token), ("GET", "/api/v1/nope", None),
                                ("POST", "/api/v1/events", "sk_wrong"), ("GET", "/demo/?user=hdr", None)):
        status, _, headers = raw_request(live_server, method, path, b"{}" if method == "POST" else None, token)
        assert headers.get("X-Content-Type-Options") == "nosniff", (path, status, dict(headers))


def test_html_pages_carry_a_content_security_policy(live_server: LiveServer) -> None:
    status, raw, headers = raw_request(live_server, "GET", "/demo/?user=hdr", None)
    assert status == 200 and headers.get_content_type() == "text/html"
    csp = headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert "'none'" in directives.get("object-src", []) and "'none'" in directives.get("frame-ancestors", [])
    assert directives.get("script-src") and "'unsafe-inline'" not in directives["script-src"], csp
    assert "'self'" in directives.get("default-src", [])
    assert headers.get("X-Frame-Options") == "DENY"
    assert headers.get("Referrer-Policy") == "strict-origin-when-cross-origin"
    # No inline script: every <script> has a src the policy allows.
    html = raw.decode()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts), scripts
    for attrs, _ in scripts:
        src = re.search(r'src="([^"]+)"', attrs).group(1)  # type: ignore[union-attr]
        status, _, headers = raw_request(live_server, "GET", src, None)
        assert status == 200 and "javascript" in headers.get_content_type(), src


def test_widget_js_stays_loadable_from_any_origin(live_server: LiveServer) -> None:
    status, _, headers = raw_request(live_server, "GET", "/widget.js", None, headers={"Origin": "https://shop.example"})
    assert status == 200
    assert headers.get("Access-Control-Allow-Origin") == "*"
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get_content_type() in ("application/javascript", "text/javascript")
    assert headers.get("Cross-Origin-Resource-Policy") in (None, "cross-origin")


# --------------------------------------------------------------------------- property tests

_text = st.text(alphabet=st.characters(), max_size=12)  # lone surrogates included
_hostile_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10 ** 40), max_value=10 ** 40), st.floats(),  # NaN, inf
    _text, st.sampled_from(["\ud800", "a\x00b", "", " ", "=1+1", "1e999", "http://[::1", "-1", "x" * 300]),
)
_hostile = st.recursive(_hostile_leaf, lambda kids: st.lists(kids, max_size=3) |
                        st.dictionaries(_text | st.sampled_from(["a", "user_id", "site_id"]), kids, max_size=3),
                        max_leaves=8)


def _body(fields: list[str]) -> st.SearchStrategy[Any]:
    values = _hostile | st.just("__DEEP__")
    return st.one_of(st.fixed_dictionaries({}, optional={f: values for f in fields}), _hostile)


HTTP_BODIES: list[tuple[str, str, str, list[str]]] = [
    ("POST", "/api/v1/events", "site", ["user_id", "name", "properties", "timestamp", "event_id", "events"]),
    ("POST", "/api/v1/identify", "site", ["user_id", "traits", "users"]),
    ("POST", "/api/v1/surveys", "admin", ["site_id", "name", "metric", "default_locale", "texts", "followup_max_score",
                                          "appearance", "quota", "status"]),
    ("PATCH", "/api/v1/surveys/1", "admin", ["name", "metric", "texts", "appearance", "quota", "status"]),
    ("PUT", "/api/v1/surveys/1", "admin", ["name", "metric", "texts", "appearance", "quota"]),
    ("POST", "/api/v1/triggers", "admin", ["site_id", "name", "event_name", "survey_id", "conditions", "source",
                                           "sample_rate", "variants", "delay_seconds", "ttl_seconds",
                                           "transaction_key", "priority", "status"]),
    ("PATCH", "/api/v1/triggers/1", "admin", ["event_name", "conditions", "variants", "sample_rate", "priority"]),
    ("PUT", "/api/v1/sites/1/fatigue", "admin", ["recontact_days", "max_prompts_per_day", "per_survey", "per_metric",
                                                 "max_prompts_per_session", "session_minutes"]),
    ("POST", "/api/v1/webhooks", "admin", ["site_id", "url", "events", "high_effort_max", "description"]),
    ("POST", "/api/v1/answers/1/follow-up", "admin", ["followed_up"]),
    ("POST", "/demo/checkout", "none", ["user"]),
]


def _encode(body: Any) -> str:
    # Deeper than hypothesis's raised recursion limit (it adds 2,000 frames while a test runs, for
    # every thread), and under the websocket's 16 KiB.
    text = json.dumps(body)  # allow_nan: NaN and Infinity go out as the literals
    return text.replace('"__DEEP__"', "[" * 7000 + "]" * 7000)


@pytest.mark.parametrize("method,path,auth,fields", HTTP_BODIES, ids=[f"{m} {p}" for m, p, _, _ in HTTP_BODIES])
def test_http_bodies_never_5xx(tmp_path, method: str, path: str, auth: str, fields: list[str]) -> None:
    server = LiveServer(tmp_path / "hostile.db")
    token = {"site": server.site["secret_key"], "admin": server.admin_token, "none": None}[auth]
    try:
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        @given(body=_body(fields))
        def check(body: Any) -> None:
            text = _encode(body)
            status, raw, _ = raw_request(server, method, path, text.encode("utf-8", "surrogatepass"), token)
            assert status < 500, (text[:300], raw[:300])
            answer = strict_loads(raw) if raw else None
            if status >= 400:
                assert answer["error"]["code"], answer

        check()
    finally:
        server.stop()


RAW_QUERY_VALUES = ["%00", "%ED%A0%80", "%FF"]  # sent as they are (already percent-encoded)
_FILTERS = ["from", "to", "trigger", "variant", "locale", "properties.channel"]
QUERY_ROUTES = {  # each route with the parameters it knows (an unknown one is refused before anything)
    "/api/v1/surveys": ["site", "limit", "offset", "status"],
    "/api/v1/triggers": ["site", "limit", "offset", "status", "event_name", "survey_id"],
    "/api/v1/users/u/decisions": ["site", "limit"],
    "/api/v1/users/u%00/decisions": ["site", "limit"],
    "/api/v1/surveys/1/report": ["interval", "driver", "buckets", *_FILTERS],
    "/api/v1/surveys/1/compare": ["a.from", "b.to", "a.properties.channel", "b.locale", "interval"],
    "/api/v1/surveys/1/comments": ["q", "score", "page", "page_size", *_FILTERS],
    "/api/v1/surveys/1/at-risk": ["page", "page_size", "high_effort_max", "followed_up", *_FILTERS],
    "/api/v1/surveys/1/export": ["format", *_FILTERS],
    "/api/v1/webhooks": ["site_id"],
    "/api/v1/webhooks/1/deliveries": ["status", "page", "page_size"],
}
_query_value = st.one_of(st.text(max_size=8), st.sampled_from(RAW_QUERY_VALUES),
                         st.sampled_from(["1" * 40, "-" + "9" * 25, "9223372036854775808", "-1", "0", "1e999", "nan"]))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(route=st.sampled_from(sorted(QUERY_ROUTES)).flatmap(
    lambda path: st.tuples(st.just(path), st.dictionaries(st.sampled_from(QUERY_ROUTES[path]), _query_value,
                                                          max_size=3))))
def test_query_strings_never_5xx(shared_server: LiveServer, route: tuple[str, dict[str, str]]) -> None:
    path, params = route
    if WebhookStore(shared_server.services.storage).get(1) is None:
        shared_server.admin("POST", "/api/v1/webhooks", {"site_id": shared_server.site["id"], "url": "https://e.com/"})
    query = "&".join(f"{urllib.parse.quote(k)}={v if v in RAW_QUERY_VALUES else urllib.parse.quote(v)}"
                     for k, v in params.items())
    status, raw, _ = raw_request(shared_server, "GET", f"{path}?{query}", None, shared_server.admin_token)
    assert status < 500, (path, query, raw[:300])
    if status >= 400:
        assert strict_loads(raw)["error"]["code"]


WS_TYPES = {"hello": ["site", "user", "user_hash", "anonymous", "locale", "traits"],
            "identify": ["user", "user_hash", "traits", "locale"], "reset": ["user"],
            "event": ["name", "properties", "event_id"], "shown": ["prompt"], "dismiss": ["prompt"],
            "answer": ["prompt", "score", "comment"], "comment": ["prompt", "comment"]}
_ws_message = st.one_of(
    st.sampled_from(sorted(WS_TYPES)).flatmap(lambda kind: st.fixed_dictionaries(
        {"type": st.just(kind)}, optional={**{f: _hostile | st.just("__DEEP__") for f in WS_TYPES[kind]},
                                           "id": _hostile})),
    st.fixed_dictionaries({"type": _hostile}, optional={"id": _hostile}),
    _hostile)


def test_websocket_messages_never_internal(tmp_path) -> None:
    server = LiveServer(tmp_path / "hostile.db")
    try:
        bystander = server.ws("bystander")
        fresh = server.ws()          # before hello
        tab = server.ws("fuzzer")    # after welcome

        @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
        @given(message=_ws_message, before_hello=st.booleans())
        def check(message: Any, before_hello: bool) -> None:
            nonlocal fresh
            client = fresh if before_hello else tab
            if not before_hello and isinstance(message, dict) and message.get("type") == "hello":
                message["type"] = "identify"  # one hello per socket
            text = _encode(message)[:16000]
            client.ws.send(text)
            raw = client.ws.receive(timeout=5)
            assert raw is not None, text[:300]
            reply = strict_loads(raw)
            assert reply["type"] in {"ack", "error", "welcome", "prompt", "close"}, reply
            if reply["type"] == "error":
                assert reply["code"] != "internal", (text[:300], reply)
            while client.ws.receive(timeout=0) is not None:  # welcome + prompts
                pass
            if client is fresh and reply["type"] in ("welcome", "error") and (
                    reply["type"] == "welcome" or reply["code"] in ("unknown_site", "bad_user_hash")):
                fresh = server.ws()  # this one said hello (or was closed): take a new one

        check()
        assert http("GET", f"{server.url}/healthz")[0] == 200
        server.post_events({"user_id": "bystander", "name": "checkout_completed"})
        assert bystander.expect("prompt")
    finally:
        server.stop()
