"""Dashboard users: `ces user create EMAIL`, logging in with a password, scopes, rate limits."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError, Page, expect

from ces.accounts import create_user
from ces.testing import LiveServer
from dashboard_support import login_password, site_url, url

CES = str(Path(sys.executable).with_name("ces"))
WRONG = "That login is not right. Check it and try again."


def _ces_user_create(server, *args: str, password: str = "correct horse battery") -> subprocess.CompletedProcess:
    return subprocess.run([CES, "user", "create", *args, "--password-stdin", "--db", server.db_path],
                          input=password + "\n", capture_output=True, text=True, timeout=60)


def test_a_user_made_by_ces_user_create_logs_in_with_the_password(live_server, page: Page) -> None:
    done = _ces_user_create(live_server, "Ana@Example.com")
    assert done.returncode == 0, done.stderr
    stored = live_server.services.storage.one("select * from dashboard_users")
    assert stored["email"] == "ana@example.com" and "correct horse" not in stored["password_hash"]
    assert stored["password_hash"].startswith("scrypt:")
    login_password(page, live_server, "ana@example.com", "correct horse battery")
    expect(page).to_have_url(site_url(live_server, "/"))
    expect(page.get_by_text("ana@example.com")).to_be_visible()


def test_unknown_user_and_wrong_password_get_the_same_message(live_server, page: Page) -> None:
    assert _ces_user_create(live_server, "ana@example.com").returncode == 0
    for email, password in (("ana@example.com", "not her password"), ("nobody@example.com", "correct horse battery")):
        login_password(page, live_server, email, password)
        expect(page.get_by_role("alert")).to_have_text(WRONG)
        expect(page.get_by_label("Email")).to_have_value(email)
    page.goto(site_url(live_server, "/"))
    expect(page).to_have_url(url(live_server, f"/login?next=/dashboard/sites/{live_server.site['id']}/"))


def test_ces_user_create_refuses_bad_input_and_stores_nothing(live_server) -> None:
    short = _ces_user_create(live_server, "ana@example.com", password="short")
    assert short.returncode != 0 and "at least 10 characters" in short.stderr
    bad = _ces_user_create(live_server, "not-an-email")
    assert bad.returncode != 0 and "not an email address" in bad.stderr
    unknown_site = _ces_user_create(live_server, "ana@example.com", "--site", "site_nope")
    assert unknown_site.returncode != 0 and "no site with key site_nope" in unknown_site.stderr
    assert live_server.services.storage.all("select * from dashboard_users") == []
    assert _ces_user_create(live_server, "ana@example.com").returncode == 0
    again = _ces_user_create(live_server, "ANA@example.com")
    assert again.returncode != 0 and "exists already" in again.stderr


def test_a_user_of_one_site_sees_only_that_site(live_server, page: Page) -> None:
    storage = live_server.services.storage
    other = storage.create_site("Other shop", live_server.clock())
    done = _ces_user_create(live_server, "bo@example.com", "--site", live_server.site["site_key"])
    assert done.returncode == 0, done.stderr
    login_password(page, live_server, "bo@example.com", "correct horse battery")
    expect(page).to_have_url(site_url(live_server, "/"))
    assert page.goto(site_url(live_server, "/", other["id"])).status == 404
    assert page.goto(site_url(live_server, "/settings", other["id"])).status == 404


def test_a_disabled_user_is_logged_out_at_the_next_request(live_server, page: Page) -> None:
    assert _ces_user_create(live_server, "cy@example.com").returncode == 0
    login_password(page, live_server, "cy@example.com", "correct horse battery")
    expect(page).to_have_url(site_url(live_server, "/"))
    done = subprocess.run([CES, "user", "disable", "cy@example.com", "--db", live_server.db_path],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    try:
        page.reload()
    except PlaywrightError as err:
        # overview.js reloads the page itself when its poll of live.json gets the 401: that
        # navigation can abort ours (net::ERR_ABORTED); either one is the next request.
        if "ERR_ABORTED" not in str(err):
            raise
    expect(page.get_by_role("heading", name="Log in to the dashboard")).to_be_visible()


def test_failed_logins_are_rate_limited_per_address(tmp_path, page: Page) -> None:
    server = LiveServer(tmp_path / "ces.db", LIMIT_LOGIN_FAILURES_PER_IP="3/minute")
    try:
        create_user(server.services.storage, "ana@example.com", "correct horse battery", server.clock())
        for _ in range(3):
            login_password(page, server, "ana@example.com", "wrong password!")
            expect(page.get_by_role("alert")).to_have_text(WRONG)
        # Past the limit even the right password is refused, and says why.
        login_password(page, server, "ana@example.com", "correct horse battery")
        expect(page.get_by_role("alert")).to_contain_text("Too many failed logins")
        expect(page).to_have_url(url(server, "/login"))
    finally:
        server.stop()
