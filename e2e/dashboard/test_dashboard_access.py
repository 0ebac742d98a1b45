"""Every dashboard URL (the whole URL map under /dashboard, so pages added later are covered):
unauthenticated → the login page; a token of one site → 404 on another site's pages; POSTs
without the session's CSRF token refused; the CSP forbids inline script and pages have none."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from playwright.sync_api import Page, expect

from ces.storage.tokens import TokenStore
from dashboard_support import login, url

OPEN = {"dashboard.login", "dashboard.static", "dashboard.vendor"}  # served to anyone


def _ids(server: Any, site_id: int | None = None) -> dict[str, Any]:
    storage = server.services.storage
    sid = site_id or server.site["id"]
    survey = storage.one("select id from surveys where site_id = ? order by id", [sid])
    trigger = storage.one("select id from triggers where site_id = ? order by id", [sid])
    return {"site_id": sid, "survey_id": survey["id"] if survey else 1, "trigger_id": trigger["id"] if trigger else 1,
            "webhook_id": 1, "answer_id": 1, "token_id": 1, "delivery_id": 1, "user_id": "someone", "name": "x"}


def _rules(server: Any, method: str) -> list[Any]:
    return [r for r in server.app.url_map.iter_rules()
            if r.rule.startswith("/dashboard") and r.endpoint not in OPEN and method in r.methods]


def _fill(rule: str, ids: dict[str, Any]) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: quote(str(ids.get(m.group(1), 1))), rule)


def test_every_dashboard_page_sends_a_visitor_to_the_login(live_server, page: Page) -> None:
    rules = _rules(live_server, "GET")
    assert {"dashboard.home", "dashboard.overview", "dashboard.settings", "dashboard.live"} <= {r.endpoint for r in rules}
    for rule in rules:
        path = _fill(rule.rule, _ids(live_server))
        page.goto(live_server.url + path)
        expect(page).to_have_url(url(live_server, f"/login?next={path}"))
        expect(page.get_by_label("Admin token")).to_be_visible()


def test_every_dashboard_post_needs_a_session_and_its_csrf_token(live_server, page: Page) -> None:
    rules = _rules(live_server, "POST")
    assert len(rules) >= 8
    before = live_server.services.storage.one("select allowed_origins, secret_key from sites where id = ?",
                                              [live_server.site["id"]])
    for rule in rules:
        if rule.endpoint == "dashboard.logout":
            continue
        path = _fill(rule.rule, _ids(live_server))
        response = page.request.post(live_server.url + path, form={"origin": "https://x.example", "grace_seconds": "0"},
                                     max_redirects=0)
        assert response.status in (400, 401), (path, response.status)
    login(page, live_server)
    for rule in rules:  # logged in, but without the CSRF token: still refused
        path = _fill(rule.rule, _ids(live_server))
        response = page.request.post(live_server.url + path, form={"origin": "https://x.example", "grace_seconds": "0"},
                                     max_redirects=0)
        assert response.status == 400 and "expired" in response.text(), path
    after = live_server.services.storage.one("select allowed_origins, secret_key from sites where id = ?",
                                             [live_server.site["id"]])
    assert after == before


def test_a_token_of_one_site_gets_404_on_every_page_of_another(live_server, page: Page) -> None:
    storage = live_server.services.storage
    other = storage.create_site("Other shop", live_server.clock())
    storage.create_survey(other["id"], live_server.clock(), name="Theirs", metric="ces7")
    _, token = TokenStore(storage).create("site one", live_server.clock(), site_id=live_server.site["id"])
    login(page, live_server, token)
    for rule in _rules(live_server, "GET"):
        if "<int:site_id>" not in rule.rule:
            continue
        path = _fill(rule.rule, _ids(live_server, other["id"]))
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 404, path
        assert "Other shop" not in page.content() and "Theirs" not in page.content()
        # The same page of its own site, with an object of the other site in the URL: 404 too.
        mixed = _fill(rule.rule, {**_ids(live_server, other["id"]), "site_id": live_server.site["id"]})
        if mixed != _fill(rule.rule, _ids(live_server)):
            assert page.goto(live_server.url + mixed).status == 404, mixed


def test_dashboard_pages_have_a_csp_without_inline_script_and_no_inline_script(live_server, dash: Page) -> None:
    for path in (f"/sites/{live_server.site['id']}/", f"/sites/{live_server.site['id']}/settings", "/login"):
        response = dash.goto(url(live_server, path))
        csp = response.headers["content-security-policy"]
        script_src = re.search(r"script-src ([^;]*)", csp).group(1)
        assert script_src.strip() == "'self'", csp
        assert "frame-ancestors 'none'" in csp and response.headers["cache-control"] == "no-store"
        inline = dash.evaluate("() => [...document.scripts].filter(s => !s.src).length")
        handlers = dash.evaluate("() => [...document.querySelectorAll('*')].filter(e => [...e.attributes]"
                                 ".some(a => a.name.startsWith('on'))).length")
        assert inline == 0 and handlers == 0, path


def test_a_read_only_token_looks_but_cannot_change_anything(live_server, page: Page) -> None:
    _, token = TokenStore(live_server.services.storage).create("viewer", live_server.clock(), read_only=True)
    login(page, live_server, token)
    expect(page.get_by_text("This account is read-only")).to_be_visible()
    page.goto(url(live_server, f"/sites/{live_server.site['id']}/settings"))
    page.get_by_label("Require a valid user hash").check()
    page.locator("#identity").get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    assert live_server.services.storage.get_site(live_server.site["id"])["identity_verification"] == 0
    page.goto(url(live_server, "/"))
    page.get_by_role("button", name="Log out").click()  # logging out is not a change: allowed
    expect(page.get_by_text("You are logged out.")).to_be_visible()


def test_the_chart_library_is_served_by_the_server_itself_and_nothing_else_of_npm(live_server) -> None:
    from ces.testing import http
    status, body = http("GET", url(live_server, "/vendor/uplot.min.js"))
    assert status == 200 and b"uPlot" in body
    assert http("GET", url(live_server, "/vendor/uplot.min.css"))[0] == 200
    for name in ("package.json", "uPlot.esm.js", "..%2Fpackage.json"):
        assert http("GET", url(live_server, f"/vendor/{name}"))[0] == 404
