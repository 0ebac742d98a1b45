"""Admin token scopes, across EVERY admin endpoint of the URL map: a token of site A neither reads
nor changes anything of site B, and a read-only token changes nothing.

Site B holds a survey, a trigger, an answer with a comment, a webhook with a delivery and a user,
each named with the marker "bravo"; no answer to a site-A token may contain it.
"""
from __future__ import annotations

import re
import time
from typing import Any, Iterator

import pytest

from ces.storage.tokens import TokenStore
from ces.testing import LiveServer, http

from contract_helpers import answer_through_widget

MARKER = "bravo"
SITE_KEY_ONLY = {"events.post_events", "events.post_identify"}
TABLES = ("sites", "surveys", "triggers", "prompts", "answers", "events", "users", "webhooks",
          "webhook_deliveries", "admin_tokens", "erasures", "site_themes", "theme_alerts")
# Reads of the whole installation (the audit log spans every site): refused to a token of one site.
EVERY_SITE_READS = {"audit.list_audit"}


@pytest.fixture
def two_sites(tmp_path) -> Iterator[tuple[LiveServer, dict[str, Any]]]:
    server = LiveServer(tmp_path / "ces.db", WEBHOOK_MAX_ATTEMPTS=1, WEBHOOK_TIMEOUT=2)
    storage, now = server.services.storage, server.clock()
    try:
        site_b = storage.create_site(f"{MARKER} site", now, allowed_origins=["*"])
        survey = storage.create_survey(site_b["id"], now, name=f"{MARKER} survey", metric="ces7",
                                       texts={"en": {"question": f"{MARKER}?", "low_label": None, "high_label": None,
                                                     "labels": None, "followup": None}})
        trigger = storage.create_trigger(site_b["id"], now, name=f"{MARKER} trigger", event_name="bravo_done",
                                         survey_id=survey["id"])
        status, hook = server.admin("POST", "/api/v1/webhooks", {"site_id": site_b["id"], "url": "http://127.0.0.1:9/bravo"})
        assert status == 201, hook
        answer_through_widget(server, site_b, f"{MARKER}-user", "bravo_done", 2, f"{MARKER} comment")
        # The delivery to the dead receiver fails once (max 1 attempt): nothing moves afterwards.
        deadline = time.monotonic() + 10
        while storage.one("select count(*) as n from webhook_deliveries where status != 'failed'")["n"]:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        b = {"site": site_b, "site_id": site_b["id"], "survey_id": survey["id"], "trigger_id": trigger["id"],
             "webhook_id": hook["id"], "user_id": f"{MARKER}-user",
             "delivery_id": storage.one("select id from webhook_deliveries where webhook_id = ?", [hook["id"]])["id"],
             "answer_id": storage.one("select id from answers where site_id = ?", [site_b["id"]])["id"],
             "key": "delivery"}
        yield server, b
    finally:
        server.stop()


def snapshot(server: LiveServer) -> dict[str, list]:
    storage = server.services.storage
    return {t: storage.all(f"select * from {t} order by 1") for t in TABLES}


def token(server: LiveServer, site_id: int | None, read_only: bool) -> str:
    return TokenStore(server.services.storage).create("scoped", server.clock(), site_id, read_only)[1]


def admin_routes(server: LiveServer) -> list[tuple[str, str, str]]:
    """(method, rule, endpoint) of every admin endpoint under /api/v1."""
    out = []
    for rule in server.app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint not in SITE_KEY_ONLY:
            out += [(m, rule.rule, rule.endpoint) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return sorted(out)


def fill(rule: str, ids: dict[str, Any]) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(ids[m.group(1)]), rule)


def bodies(ids: dict[str, Any]) -> dict[str, Any]:
    """A body each write accepts, naming site B wherever a body names a site or survey."""
    return {
        "admin.create_survey": {"site_id": ids["site_id"], "name": "x", "metric": "ces7"},
        "admin.create_trigger": {"survey_id": ids["survey_id"], "event_name": "x"},
        "webhooks.create_webhook": {"site_id": ids["site_id"], "url": "http://127.0.0.1:9/x"},
        "sites.create_site": {"name": "new"},
        "admin.patch_survey": {"name": "changed"}, "admin.put_survey": {"name": "changed", "metric": "ces7"},
        "admin.patch_trigger": {"name": "changed"},
        "admin.put_trigger": {"event_name": "x", "survey_id": ids["survey_id"]},
        "sites.patch_site": {"name": "changed", "identity_verification": True},
        "sites.put_fatigue": {"max_prompts": None},
        "themes.put_theme": {"label": "changed"}, "themes.merge_theme": {"into": "waiting"},
        "themes.contacted": {"contacted": True},
    }


def test_a_token_of_site_a_reaches_nothing_of_site_b(two_sites) -> None:
    server, b = two_sites
    a_token = token(server, server.site["id"], read_only=False)
    before = snapshot(server)
    body_for = bodies(b)
    checked = 0
    for method, rule, endpoint in admin_routes(server):
        url = server.url + fill(rule, b)
        queries = [""]
        if "<" not in rule:  # lists and creations: also asked for site B by name
            queries += [f"?site={b['site_id']}", f"?site_id={b['site_id']}"]
        for query in queries:
            status, answer = http(method, url + query, body_for.get(endpoint), token=a_token)
            if "user_id" in rule and status == 200:  # the user id asked for is echoed: B's data is not
                assert answer["site_id"] == server.site["id"], (method, rule, answer)  # A's own user of that id
                if "items" in answer:  # decisions
                    assert answer["items"] == [] and answer["total"] == 0
                answer = {k: v for k, v in answer.items() if k != "user_id"}
            text = answer.decode() if isinstance(answer, bytes) else repr(answer)
            if "user_id" in rule:  # the URL's own user id, echoed in a 404, is what the caller sent
                text = text.replace(repr(b["user_id"]), "")
            assert status < 500, (method, rule, status, answer)
            assert MARKER not in text.lower(), (method, rule, query, answer)
            if "<" in rule:
                # An object of site B: the same 404 as a missing one (or, for a user, nothing of B's).
                if "user_id" not in rule:
                    kind = next(k for k in ("delivery", "webhook", "answer", "trigger", "survey", "site")
                                if f"<int:{k}_id>" in rule)
                    kind = "webhook" if kind == "delivery" else kind  # the webhook is checked first
                    assert status == 404 and answer["error"]["message"] == f"No {kind} {b[kind + '_id']}.", \
                        (method, rule, answer)
            elif method != "GET":
                assert status in (400, 403), (method, rule, status, answer)
            checked += 1
    assert checked > 40
    assert snapshot(server) == before


def test_the_404_for_another_sites_object_is_the_404_of_a_missing_one(two_sites) -> None:
    server, b = two_sites
    a_token = token(server, server.site["id"], read_only=True)
    for path, missing in ((f"/api/v1/surveys/{b['survey_id']}", "/api/v1/surveys/999999"),
                          (f"/api/v1/triggers/{b['trigger_id']}", "/api/v1/triggers/999999"),
                          (f"/api/v1/sites/{b['site_id']}", "/api/v1/sites/999999")):
        other = http("GET", server.url + path, token=a_token)
        gone = http("GET", server.url + missing, token=a_token)
        assert other[0] == gone[0] == 404
        assert other[1]["error"].keys() == gone[1]["error"].keys()
        assert other[1]["error"]["message"].rsplit(" ", 1)[0] == gone[1]["error"]["message"].rsplit(" ", 1)[0]


@pytest.mark.parametrize("scope", ["one site", "every site"])
def test_a_read_only_token_changes_nothing_anywhere(two_sites, scope: str) -> None:
    server, b = two_sites
    ro = token(server, server.site["id"] if scope == "one site" else None, read_only=True)
    a_ids = {"site_id": server.site["id"], "survey_id": server.survey_id, "user_id": "someone",
             "trigger_id": server.services.storage.one("select id from triggers where site_id = ?",
                                                       [server.site["id"]])["id"],
             "webhook_id": b["webhook_id"] if scope == "every site" else 999,
             "delivery_id": b["delivery_id"], "answer_id": b["answer_id"] if scope == "every site" else 999,
             "key": "delivery"}
    before = snapshot(server)
    writes = reads = 0
    for method, rule, endpoint in admin_routes(server):
        status, answer = http(method, server.url + fill(rule, a_ids), bodies(a_ids).get(endpoint), token=ro)
        if method == "GET" and endpoint in EVERY_SITE_READS and scope == "one site":
            assert status == 403 and answer["error"]["code"] == "forbidden", (rule, status, answer)
        elif method == "GET":
            assert status in (200, 400, 404), (rule, status, answer)
            reads += status == 200
        else:
            assert status == 403 and answer["error"]["code"] == "forbidden", (method, rule, status, answer)
            writes += 1
    assert writes > 20 and reads > 10
    assert snapshot(server) == before


def test_what_each_scope_can_do(two_sites) -> None:
    server, b = two_sites
    a_rw = token(server, server.site["id"], read_only=False)
    # Several sites exist, yet a token of one site creates on its own site without naming it.
    status, survey = http("POST", f"{server.url}/api/v1/surveys", {"name": "A's", "metric": "nps"}, token=a_rw)
    assert status == 201 and survey["site_id"] == server.site["id"]
    listed = http("GET", f"{server.url}/api/v1/sites", token=a_rw)[1]
    assert [s["id"] for s in listed["items"]] == [server.site["id"]] and listed["total"] == 1
    status, answer = http("POST", f"{server.url}/api/v1/sites", {"name": "mine"}, token=a_rw)
    assert status == 403 and "one site" in answer["error"]["message"]
    # A token of every site sees both, and the score endpoint follows the same scope.
    everything = token(server, None, read_only=True)
    assert http("GET", f"{server.url}/api/v1/sites", token=everything)[1]["total"] == 2
    assert http("GET", f"{server.url}/api/v1/surveys/{b['survey_id']}/score", token=everything)[0] == 200
    assert http("GET", f"{server.url}/api/v1/surveys/{b['survey_id']}/score", token=a_rw)[0] == 404
    # Revoked is revoked, whatever the scope.
    assert http("GET", f"{server.url}/api/v1/surveys", token="ces_admin_nope")[0] == 401
