"""Allowed origins in a real browser: Chromium sends the page's origin with the upgrade; a site
that does not list the shop's origin gets a quiet widget, one that does gets its prompt."""
from __future__ import annotations

from types import SimpleNamespace

from playwright.sync_api import Page, expect

from ces.storage.sites import SiteStore

from test_widget_support import HOST, ask, console_warnings, open_shop, shop, wait_until  # noqa: F401


def test_a_shop_not_in_the_sites_origins_gets_a_quiet_widget(live_server, shop, page: Page) -> None:
    site = live_server.services.storage.create_site("Elsewhere", live_server.clock(),
                                                    allowed_origins=["https://shop.example"])
    connections: list = []
    page.on("websocket", lambda ws: connections.append(ws))
    warnings = console_warnings(page)
    server = SimpleNamespace(url=live_server.url, site=site)  # what the host page helper needs
    open_shop(page, server, shop, "/foreign", user="stranger")
    wait_until(lambda: warnings, page=page)
    page.wait_for_timeout(2000)  # several reconnect periods: none is tried
    assert len(connections) == 1
    assert len(warnings) == 1 and "origin_not_allowed" in warnings[0]
    assert live_server.services.hub.connections(site["id"], "stranger") == []


def test_a_shop_listed_in_the_sites_origins_gets_its_prompt(live_server, shop, page: Page) -> None:
    SiteStore(live_server.services.storage).update(live_server.site["id"], {"allowed_origins": [shop.url]})
    open_shop(page, live_server, shop, "/listed", user="listed")
    wait_until(lambda: live_server.services.hub.connections(live_server.site["id"], "listed"), page=page)
    ask(live_server, "listed")
    expect(page.locator(HOST).first).to_be_attached()
    expect(page.get_by_role("radiogroup")).to_be_visible()
