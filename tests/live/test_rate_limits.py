"""Rate limits on a real server: floods get 429 / `rate_limited` with when to retry, nothing past a
limit is stored, and everyone else is served normally meanwhile.

Limits are set low through the server's config where a test would otherwise send tens of
thousands of requests, per hour: counts are a sliding window counter over windows aligned on the
clock, so a test that crossed a minute's end could see one more pass; over an hour's they are exact.
The defaults (per minute) are exercised where they are small (failed authentication, websocket
events), with that one-more margin."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any, Iterator

import pytest

from ces.testing import LiveServer, WsClient, http


def post(url: str, body: Any, token: str | None, headers: dict[str, str] | None = None
         ) -> tuple[int, dict[str, str], Any]:
    """One POST; (status, response headers, parsed JSON body)."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def assert_429(status: int, headers: dict[str, str], body: Any, limit: str, most: int = 3600) -> None:
    assert status == 429, body
    assert body["error"]["code"] == "rate_limited" and body["error"]["limit"] == limit
    assert limit in body["error"]["message"]
    assert 1 <= int(headers["Retry-After"]) <= most
    assert body["error"]["retry_after"] == int(headers["Retry-After"])


def stored(server: LiveServer, site_id: int, user: str | None = None) -> int:
    sql, args = "select count(*) as n from events where site_id = ?", [site_id]
    if user is not None:
        sql, args = sql + " and user_id = ?", [site_id, user]
    return server.services.storage.one(sql, args)["n"]


@pytest.fixture
def limited(tmp_path) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path / "limited.db", LIMIT_API_EVENTS_PER_KEY="200/hour",
                        LIMIT_API_REQUESTS_PER_IP="50/hour", LIMIT_WS_EVENTS_PER_IP="100/hour")
    try:
        yield server
    finally:
        server.stop()


# -- HTTP ------------------------------------------------------------------------------------------

def test_an_http_flood_from_one_key_gets_429_while_another_site_is_served(limited: LiveServer) -> None:
    other = limited.services.storage.create_site("Other shop", limited.clock())
    url = f"{limited.url}/api/v1/events"
    batch = {"events": [{"user_id": f"f{i}", "name": "page_viewed"} for i in range(10)]}
    answers = [post(url, batch, limited.site["secret_key"]) for _ in range(25)]
    statuses = [status for status, _, _ in answers]
    assert statuses == [200] * 20 + [429] * 5  # 200 events an hour: 20 batches of 10
    assert_429(*answers[-1], limit="api_events_per_key")
    assert stored(limited, limited.site["id"]) == 200  # a refused batch stores nothing
    # The other site's key is counted apart: served normally while the first stays limited.
    for _ in range(3):
        status, _, body = post(url, batch, other["secret_key"])
        assert status == 200 and len(body["results"]) == 10
        assert post(url, batch, limited.site["secret_key"])[0] == 429
    assert stored(limited, other["id"]) == 30


def test_a_batch_larger_than_the_limit_is_told_to_split(limited: LiveServer) -> None:
    big = {"events": [{"user_id": f"b{i}", "name": "page_viewed"} for i in range(201)]}
    status, headers, body = post(f"{limited.url}/api/v1/events", big, limited.site["secret_key"])
    assert status == 400 and body["error"]["code"] == "over_rate_limit" and "Retry-After" not in headers
    assert "smaller batches" in body["error"]["message"]
    assert stored(limited, limited.site["id"]) == 0


def test_identify_counts_against_the_key_too(limited: LiveServer) -> None:
    url = f"{limited.url}/api/v1/identify"
    users = {"users": [{"user_id": f"u{i}", "traits": {"plan": "pro"}} for i in range(100)]}
    assert [post(url, users, limited.site["secret_key"])[0] for _ in range(3)] == [200, 200, 429]


def test_requests_per_address_are_limited_on_the_events_api(limited: LiveServer) -> None:
    other = limited.services.storage.create_site("Other shop", limited.clock())
    url = f"{limited.url}/api/v1/events"
    one = {"user_id": "u", "name": "page_viewed"}
    keys = [limited.site["secret_key"], other["secret_key"]]
    answers = [post(url, one, keys[i % 2]) for i in range(55)]  # 55 events: under each key's limit
    assert [a[0] for a in answers] == [200] * 50 + [429] * 5
    assert_429(*answers[-1], limit="api_requests_per_ip")
    assert http("GET", f"{limited.url}/healthz")[0] == 200  # only the events API is counted


def test_200_wrong_key_requests_end_in_429_before_the_key_is_checked(live_server: LiveServer) -> None:
    """The default: 30 failed authentications a minute from one address."""
    url = f"{live_server.url}/api/v1/events"
    event = {"user_id": "u", "name": "page_viewed"}
    tokens = ["sk_guess", None, live_server.admin_token[:-1]]
    answers = [post(url, event, tokens[i % 3]) for i in range(200)]
    statuses = [a[0] for a in answers]
    assert statuses[:30] == [401] * 30 and set(statuses[30:]) <= {401, 429}
    assert statuses.count(429) >= 169 and statuses[-1] == 429
    assert_429(*answers[-1], limit="auth_failures_per_ip", most=60)
    # Past the limit the key is not looked at: even the right one is refused from this address...
    status, headers, body = post(url, event, live_server.site["secret_key"])
    assert_429(status, headers, body, limit="auth_failures_per_ip")
    assert http("GET", f"{live_server.url}/api/v1/surveys", token=live_server.admin_token)[0] == 429
    assert stored(live_server, live_server.site["id"]) == 0
    # ...while the widget's script and socket (not the API) are still served.
    assert http("GET", f"{live_server.url}/widget.js")[0] == 200
    live_server.ws("still-welcome")


def test_behind_a_trusted_proxy_each_client_address_is_counted_apart(tmp_path) -> None:
    server = LiveServer(tmp_path / "proxy.db", PROXY_HOPS=1, LIMIT_AUTH_FAILURES_PER_IP="5/hour")
    try:
        url = f"{server.url}/api/v1/events"
        event = {"user_id": "u", "name": "page_viewed"}
        attacker = {"X-Forwarded-For": "203.0.113.7"}
        assert [post(url, event, "sk_guess", attacker)[0] for _ in range(8)] == [401] * 5 + [429] * 3
        status, _, body = post(url, event, server.site["secret_key"], {"X-Forwarded-For": "198.51.100.2"})
        assert status == 200, body
    finally:
        server.stop()


def test_without_a_trusted_proxy_a_forged_forwarded_for_changes_nothing(tmp_path) -> None:
    server = LiveServer(tmp_path / "direct.db", LIMIT_AUTH_FAILURES_PER_IP="5/hour")
    try:
        url = f"{server.url}/api/v1/events"
        statuses = [post(url, {"user_id": "u", "name": "x"}, "sk_guess", {"X-Forwarded-For": f"203.0.113.{i}"})[0]
                    for i in range(8)]
        assert statuses == [401] * 5 + [429] * 3
    finally:
        server.stop()


# -- websocket -------------------------------------------------------------------------------------

def flood(tab: WsClient, count: int) -> list[dict[str, Any]]:
    """`count` events sent as fast as the socket takes them; the replies, in order."""
    for i in range(count):
        tab.send({"type": "event", "id": f"f{i}", "name": "page_viewed", "properties": {"i": i}})
    replies = [tab.recv(timeout=30) for _ in range(count)]
    assert all(r is not None for r in replies)
    return replies  # type: ignore[return-value]


def test_a_websocket_flood_from_one_anonymous_socket_is_limited_and_mostly_not_stored(
        live_server: LiveServer) -> None:
    """The defaults: 60 widget events a minute per user, 300 messages a minute per socket."""
    site_id = live_server.site["id"]
    bystander = live_server.ws("bystander")
    flooder = live_server.ws("anon-flood", anonymous=True)
    result: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: result.update(replies=flood(flooder, 5000)))
    worker.start()
    # Served normally while the flood runs: the bystander's events and a prompt pushed to it.
    for i in range(5):
        bystander.send({"type": "event", "id": f"b{i}", "name": "page_viewed"})
        assert bystander.expect("ack")["ref"] == f"b{i}"
    status, body = live_server.post_events({"user_id": "bystander", "name": "checkout_completed"})
    assert status == 200 and body["results"][0]["reason"] == "prompted"
    assert bystander.expect("prompt")["prompt"]["id"] == body["results"][0]["prompt_id"]
    worker.join(timeout=120)
    replies = result["replies"]
    assert [r.get("ref") for r in replies] == [f"f{i}" for i in range(5000)]
    acks = [r for r in replies if r["type"] == "ack"]
    refused = [r for r in replies if r["type"] == "error"]
    assert 60 <= len(acks) <= 61 and len(acks) + len(refused) == 5000
    assert [r["type"] for r in replies[:60]] == ["ack"] * 60
    assert {r["code"] for r in refused} == {"rate_limited"}
    assert {r["limit"] for r in refused} == {"ws_events_per_user", "ws_messages_per_socket"}
    assert all(1 <= r["retry_after"] <= 60 for r in refused)
    assert stored(live_server, site_id, "anon-flood") == len(acks)
    assert stored(live_server, site_id, "bystander") == 6


def test_new_anonymous_ids_and_sockets_do_not_escape_the_per_address_limit(limited: LiveServer) -> None:
    """100 widget events an hour from one address here: five sockets with fresh anonymous ids
    and a `reset` each stay within it together."""
    for n in range(5):
        tab = limited.ws(f"anon-{n}", anonymous=True)
        flood(tab, 20)
        tab.send({"type": "reset", "user": f"anon-{n}-again"})
        tab.expect("welcome")
        flood(tab, 20)
    total = limited.services.storage.one("select count(*) as n from events where source = 'widget'")["n"]
    assert total == 100


def test_messages_that_do_not_parse_count_too(tmp_path) -> None:
    server = LiveServer(tmp_path / "garbage.db", LIMIT_WS_MESSAGES_PER_SOCKET="10/hour")
    try:
        tab = server.ws()
        for _ in range(10):
            tab.send("{not json")
            assert tab.expect("error")["code"] == "bad_json"
        tab.send({"type": "hello", "id": "h", "site": server.site["site_key"], "user": "u"})
        refused = tab.expect("error")
        assert refused["code"] == "rate_limited" and refused["ref"] == "h"
        assert refused["limit"] == "ws_messages_per_socket"
        server.ws("another-socket")  # counted per socket: a fresh one is welcome
    finally:
        server.stop()


def test_a_users_messages_are_counted_over_all_their_tabs(tmp_path) -> None:
    server = LiveServer(tmp_path / "tabs.db", LIMIT_WS_MESSAGES_PER_USER="12/hour")
    try:
        tabs = [server.ws("busy") for _ in range(3)]  # a hello comes before the user is known: not counted
        replies = []
        for i in range(15):
            tabs[i % 3].send({"type": "event", "id": f"t{i}", "name": "x"})
            replies.append(tabs[i % 3].recv())
        assert [r["type"] for r in replies] == ["ack"] * 12 + ["error"] * 3
        assert replies[-1]["limit"] == "ws_messages_per_user" and replies[-1]["ref"] == "t14"
        other = server.ws("calm")
        other.send({"type": "event", "id": "c", "name": "x"})
        assert other.expect("ack")["ref"] == "c"
    finally:
        server.stop()


# -- per site --------------------------------------------------------------------------------------

def test_a_sites_own_limits_override_the_defaults(live_server: LiveServer) -> None:
    other = live_server.services.storage.create_site("Small shop", live_server.clock(), allowed_origins=["*"])
    status, body = live_server.admin("PUT", f"/api/v1/sites/{other['id']}/limits",
                                     {"ws_events_per_user": "5/hour", "api_events_per_key": "20/hour"})
    assert status == 200, body
    assert body["limits"]["ws_events_per_user"] == {"effective": "5/hour", "site": "5/hour",
                                                    "default": "60/minute;1000/day"}
    tab = WsClient(live_server.ws_url)
    try:
        tab.send({"type": "hello", "site": other["site_key"], "user": "anon-small", "anonymous": True})
        tab.expect("welcome")
        kinds = [r["type"] for r in flood(tab, 8)]
    finally:
        tab.close()
    assert kinds == ["ack"] * 5 + ["error"] * 3
    batch = {"events": [{"user_id": "u", "name": "x"}] * 10}
    url = f"{live_server.url}/api/v1/events"
    assert [post(url, batch, other["secret_key"])[0] for _ in range(3)] == [200, 200, 429]
    # The default site keeps the server's defaults.
    assert [post(url, batch, live_server.site["secret_key"])[0] for _ in range(3)] == [200, 200, 200]
    default_tab = live_server.ws("anon-default", anonymous=True)
    assert [r["type"] for r in flood(default_tab, 8)] == ["ack"] * 8
    # null goes back to the default.
    status, body = live_server.admin("PUT", f"/api/v1/sites/{other['id']}/limits", {"api_events_per_key": None})
    assert body["limits"]["api_events_per_key"]["site"] is None
    assert body["limits"]["ws_events_per_user"]["site"] == "5/hour"
    assert live_server.admin("GET", f"/api/v1/sites/{other['id']}/limits")[1] == body


@pytest.mark.parametrize("bad, field", [({"ws_events_per_user": "lots"}, "ws_events_per_user"),
                                        ({"ws_events_per_user": 5}, "ws_events_per_user"),
                                        ({"auth_failures_per_ip": "1/minute"}, "auth_failures_per_ip"),
                                        ({"nope": "1/minute"}, "nope")])
def test_an_invalid_site_limit_is_refused_and_changes_nothing(live_server: LiveServer, bad, field) -> None:
    path = f"/api/v1/sites/{live_server.site['id']}/limits"
    before = live_server.admin("GET", path)[1]
    status, body = live_server.admin("PUT", path, {"ws_messages_per_socket": "10/minute", **bad})
    assert status == 400 and field in body["error"]["fields"], body
    assert live_server.admin("GET", path)[1] == before
    assert live_server.admin("PUT", "/api/v1/sites/999/limits", {})[0] == 404
    assert http("PUT", live_server.url + path, {}, token=live_server.site["secret_key"])[0] == 401


def test_a_wrong_limit_in_the_config_stops_the_server_with_its_name(tmp_path) -> None:
    with pytest.raises(ValueError, match="LIMIT_WS_EVENTS_PER_USER"):
        LiveServer(tmp_path / "bad.db", LIMIT_WS_EVENTS_PER_USER="often")


def test_a_site_can_turn_widget_events_off_with_a_limit_of_zero(live_server: LiveServer) -> None:
    status, _ = live_server.admin("PUT", f"/api/v1/sites/{live_server.site['id']}/limits",
                                  {"ws_events_per_user": "0/minute"})
    assert status == 200
    tab = live_server.ws("anon-zero", anonymous=True)
    replies = flood(tab, 3)
    assert [(r["type"], r["code"], r["ref"]) for r in replies] == [("error", "rate_limited", f"f{i}") for i in range(3)]
    assert all(r["retry_after"] == 60 for r in replies)
    assert stored(live_server, live_server.site["id"], "anon-zero") == 0
    assert live_server.post_events({"user_id": "anon-zero", "name": "page_viewed"})[0] == 200  # the backend still may


def test_the_sdk_waits_out_a_429_and_delivers_every_event_once(tmp_path) -> None:
    """The backend's side of a limit: the SDK honours Retry-After, nothing is lost or doubled."""
    import ces_sdk

    server = LiveServer(tmp_path / "sdk.db", LIMIT_API_EVENTS_PER_KEY="40/second")
    client = ces_sdk.Client(server.site["secret_key"], server.url, flush_at=20, flush_interval=0.05)
    try:
        for i in range(200):
            client.track(f"user-{i % 7}", "page_viewed", {"i": i})
        assert client.flush(60)
        stats = client.stats.snapshot()
        assert stats["sent"] == 200 and stats["retries"] > 0  # some batches were answered 429 and sent again
        rows = server.services.storage.all("select properties from events where site_id = ?", [server.site["id"]])
        assert sorted(json.loads(r["properties"])["i"] if isinstance(r["properties"], str) else r["properties"]["i"]
                      for r in rows) == list(range(200))
    finally:
        client.shutdown(5)
        server.stop()
