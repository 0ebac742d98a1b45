"""The Settings page: key rotation, identity verification, allowed origins (with a refused one),
webhooks with a test event in the delivery log, admin tokens; axe and screenshots."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Iterator

import pytest
from playwright.sync_api import Page, expect

from ces.testing import http
from dashboard_support import axe_violations, login, screenshot, site_url


def _settings(page: Page, server: Any) -> None:
    page.goto(site_url(server, "/settings"))
    expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()


def test_rotating_the_secret_key_shows_the_new_key_once_and_the_old_one_stops(live_server, dash: Page) -> None:
    old = live_server.site["secret_key"]
    _settings(dash, live_server)
    dash.get_by_label("The old secret key keeps working for").select_option(label="Stop the old key now")
    dash.get_by_role("button", name="Rotate secret key").click()
    new = dash.get_by_test_id("new-secret").inner_text().strip()
    assert new.startswith("sk_") and new != old
    assert live_server.post_events({"name": "x", "user_id": "u"}, token=old)[0] == 401
    assert live_server.post_events({"name": "x", "user_id": "u"}, token=new)[0] in (200, 202)
    dash.goto(site_url(live_server, "/settings"))
    expect(dash.get_by_test_id("new-secret")).to_have_count(0)  # shown once
    assert new not in dash.content()


def test_identity_verification_is_toggled(live_server, dash: Page) -> None:
    _settings(dash, live_server)
    expect(dash.get_by_test_id("identity-state")).to_have_text("Off")
    dash.get_by_label("Require a valid user hash").check()
    dash.locator("#identity").get_by_role("button", name="Save").click()
    expect(dash.get_by_role("status")).to_have_text("Identity verification saved.")
    expect(dash.get_by_test_id("identity-state")).to_have_text("On")
    assert http("GET", f"{live_server.url}/api/v1/sites/{live_server.site['id']}",
                token=live_server.admin_token)[1]["identity_verification"] is True
    dash.get_by_label("Require a valid user hash").uncheck()
    dash.locator("#identity").get_by_role("button", name="Save").click()
    expect(dash.get_by_test_id("identity-state")).to_have_text("Off")


def test_a_bad_origin_is_refused_next_to_the_field_and_nothing_is_saved(live_server, dash: Page) -> None:
    before = live_server.services.storage.get_site(live_server.site["id"])["allowed_origins"]
    _settings(dash, live_server)
    field = dash.get_by_label("Add an origin")
    field.fill("shop.example/path")
    dash.locator("#origins").get_by_role("button", name="Add").click()
    error = dash.locator("#origin-error")
    expect(error).to_be_visible()
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("shop.example/path")  # kept, to be corrected
    assert live_server.services.storage.get_site(live_server.site["id"])["allowed_origins"] == before
    field.fill("https://shop.example")
    dash.locator("#origins").get_by_role("button", name="Add").click()
    expect(dash.get_by_role("status")).to_have_text("Origin added.")
    assert "https://shop.example" in live_server.services.storage.get_site(live_server.site["id"])["allowed_origins"]
    dash.get_by_role("button", name="Remove https://shop.example").click()
    expect(dash.get_by_role("status")).to_have_text("Origin removed.")
    assert live_server.services.storage.get_site(live_server.site["id"])["allowed_origins"] == before


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append({"headers": dict(self.headers), "body": body})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)  # shutdown() quick
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver.received
    server.shutdown()


def test_a_webhook_gets_a_test_event_seen_in_its_delivery_log(live_server, dash: Page, receiver) -> None:
    url, received = receiver
    _settings(dash, live_server)
    dash.get_by_text("Add a webhook").click()
    dash.get_by_label("URL").fill("ftp://nope")
    dash.get_by_role("button", name="Create webhook").click()
    expect(dash.locator("#webhook_url-error")).to_be_visible()  # refused next to the field
    assert live_server.services.storage.all("select id from webhooks") == []
    dash.get_by_label("URL").fill(url)
    dash.get_by_role("button", name="Create webhook").click()
    expect(dash.get_by_test_id("new-webhook-secret")).to_contain_text("whsec_")
    hook = dash.locator("article.webhook").first
    expect(hook.get_by_text("Nothing sent yet.")).to_be_visible()
    hook.get_by_role("button", name="Send a test event").click()
    expect(dash.get_by_role("status")).to_have_text("Test event queued: it is in the delivery log below.")
    row = dash.locator("article.webhook table tbody tr").first
    expect(row).to_contain_text("webhook.test")
    live_server.wait_for(lambda: len(received) == 1, timeout=10)  # the sender really posted it
    assert b'"type":"webhook.test"' in received[0]["body"] and "webhook-signature" in {
        k.lower() for k in received[0]["headers"]}
    for _ in range(50):  # the log shows the outcome once the sender recorded it
        dash.reload()
        if "succeeded" in row.inner_text():
            break
        dash.wait_for_timeout(100)
    expect(row).to_contain_text("succeeded")
    expect(row).to_contain_text("HTTP 204")


def test_admin_tokens_are_created_shown_once_and_revoked(live_server, dash: Page, browser) -> None:
    _settings(dash, live_server)
    dash.get_by_label("Name", exact=True).fill("")
    dash.get_by_role("button", name="Create token").click()
    expect(dash.locator("#token_name-error")).to_be_visible()
    dash.get_by_label("Name", exact=True).fill("<img src=x onerror=alert(1)>")
    dash.get_by_role("button", name="Create token").click()
    expect(dash.locator("#tokens tbody").get_by_text("<img src=x onerror=alert(1)>", exact=True)).to_be_visible()
    assert dash.locator("main img").count() == 0
    dash.get_by_label("Name", exact=True).fill("reporting script")
    dash.get_by_role("button", name="Create token").click()
    token = dash.get_by_test_id("new-token").inner_text().strip()
    assert token.startswith("ces_admin_")
    status, body = http("GET", f"{live_server.url}/api/v1/surveys", token=token)
    assert status == 200
    row = dash.locator("#tokens tbody tr", has_text="reporting script")
    expect(row).to_contain_text("this site")
    dash.get_by_role("button", name="Revoke reporting script").click()
    expect(dash.get_by_role("status")).to_have_text("Token revoked.")
    expect(dash.locator("#tokens tbody tr", has_text="reporting script")).to_contain_text("revoked")
    assert http("GET", f"{live_server.url}/api/v1/surveys", token=token)[0] == 401


def test_revoking_the_token_of_a_session_ends_that_session(live_server, dash: Page, browser) -> None:
    from ces.storage.tokens import TokenStore
    row, token = TokenStore(live_server.services.storage).create("laptop", live_server.clock())
    other = browser.new_context().new_page()
    login(other, live_server, token)
    _settings(dash, live_server)
    dash.get_by_role("button", name="Revoke laptop").click()
    other.reload()
    expect(other.get_by_label("Admin token")).to_be_visible()  # back at the login form


def test_settings_has_no_axe_violations_and_screenshots(live_server, dash: Page, receiver) -> None:
    url, _ = receiver
    http("POST", f"{live_server.url}/api/v1/webhooks", {"site_id": live_server.site["id"], "url": url},
         token=live_server.admin_token)
    _settings(dash, live_server)
    dash.get_by_role("button", name="Send a test event").click()
    expect(dash.get_by_role("status")).to_be_visible()
    assert axe_violations(dash) == []
    dash.get_by_label("Add an origin").fill("not an origin")
    dash.locator("#origins").get_by_role("button", name="Add").click()
    expect(dash.locator("#origin-error")).to_be_visible()
    assert axe_violations(dash) == []
    screenshot(dash, "settings")
