"""Logging in and out of the dashboard, and what an unauthenticated or scoped visitor gets."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from dashboard_support import login, site_url, url


def test_token_login_lands_on_the_overview_and_logout_ends_the_session(live_server, page: Page) -> None:
    page.goto(live_server.url + "/")
    expect(page).to_have_url(url(live_server, "/login?next=/dashboard/"))
    login(page, live_server)
    expect(page).to_have_url(site_url(live_server, "/"))
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "ces_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/dashboard"
    assert live_server.admin_token not in cookie["value"]
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    page.goto(site_url(live_server, "/"))
    expect(page).to_have_url(url(live_server, f"/login?next=/dashboard/sites/{live_server.site['id']}/"))


def test_wrong_token_is_refused_with_a_message(live_server, page: Page) -> None:
    page.goto(url(live_server, "/login"))
    page.get_by_label("Admin token").fill("ces_admin_not-a-real-one")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("That login is not right. Check it and try again.")
    page.goto(site_url(live_server, "/"))
    expect(page.get_by_label("Admin token")).to_be_visible()  # still not logged in


def test_login_returns_to_the_page_asked_for(live_server, page: Page) -> None:
    page.goto(site_url(live_server, "/settings"))
    page.get_by_label("Admin token").fill(live_server.admin_token)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(site_url(live_server, "/settings"))


def test_a_token_of_one_site_cannot_open_another_sites_pages(live_server, page: Page) -> None:
    from ces.storage.tokens import TokenStore
    storage = live_server.services.storage
    other = storage.create_site("Other shop", live_server.clock())
    _, token = TokenStore(storage).create("site one only", live_server.clock(), site_id=live_server.site["id"])
    login(page, live_server, token)
    expect(page).to_have_url(site_url(live_server, "/"))
    for path in ("/", "/settings"):
        response = page.goto(site_url(live_server, path, other["id"]))
        assert response is not None and response.status == 404, path
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        assert "Other shop" not in page.content()
    assert page.goto(site_url(live_server, "/")).status == 200  # its own site still opens


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(dash: Page, live_server) -> None:
    refused = dash.request.post(url(live_server, "/logout"), form={"csrf_token": "forged"}, max_redirects=0)
    assert refused.status == 400
    refused = dash.request.post(url(live_server, "/logout"), headers={"X-CSRF-Token": "forged"}, max_redirects=0)
    assert refused.status == 400 and refused.json()["error"]["code"] == "csrf_failed"
    dash.reload()
    expect(dash.get_by_role("button", name="Log out")).to_be_visible()  # still logged in


def test_login_page_has_no_axe_violations_and_screenshots(live_server, page: Page) -> None:
    from dashboard_support import axe_violations, screenshot
    page.goto(url(live_server, "/login"))
    assert axe_violations(page) == []
    page.get_by_label("Admin token").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Email and password").click()
    expect(page.get_by_label("Password")).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, "login")


def test_the_session_cookie_is_secure_over_https(tmp_path) -> None:
    import urllib.request

    from ces.testing import LiveServer
    server = LiveServer(tmp_path / "ces.db", PROXY_HOPS=1)
    try:
        def cookie(headers: dict[str, str]) -> str:
            with urllib.request.urlopen(urllib.request.Request(url(server, "/login"), headers=headers)) as resp:
                return resp.headers["Set-Cookie"]
        plain = cookie({})
        assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
        assert "Secure" in cookie({"X-Forwarded-Proto": "https"})
    finally:
        server.stop()


def test_the_session_key_is_the_installations_own_and_survives_a_restart(tmp_path, page: Page) -> None:
    from ces.testing import LiveServer
    first = LiveServer(tmp_path / "ces.db")
    key = first.app.config["SECRET_KEY"]
    login(page, first)
    first.stop()
    second = LiveServer(tmp_path / "ces.db")  # a restart: same database, new process state
    try:
        assert second.app.config["SECRET_KEY"] == key and len(key) >= 64
        page.goto(url(second, "/"))  # cookies ignore the port: the first server's session, checked by the second
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        other = LiveServer(tmp_path / "other.db")
        assert other.app.config["SECRET_KEY"] != key  # never a constant
        other.stop()
    finally:
        second.stop()


def test_login_never_redirects_to_another_host(live_server, page: Page) -> None:
    for target in ("https://evil.example/", "//evil.example/dashboard/", "/dashboard/\\evil.example", "/api/v1/sites"):
        page.goto(url(live_server, "/login?with=token&next=") + target)
        page.get_by_label("Admin token").fill(live_server.admin_token)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(site_url(live_server, "/"))  # the home, not the given target
        page.get_by_role("button", name="Log out").click()
