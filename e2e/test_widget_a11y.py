"""axe-core finds nothing to report, in every placement, theme and stage of the prompt."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from test_widget_support import HOST, ask, axe_violations, create_survey, open_shop, shop

PLACEMENTS = {
    "bottom-right": {"placement": "bottom-right", "color": "#3b5bdb"},
    "bottom-left-light-brand": {"placement": "bottom-left", "color": "#ffd43b"},  # needs dark text
    "center": {"placement": "center", "color": "#2b8a3e"},
    "inline-dark": {"placement": "inline", "target": "#slot", "color": "#e64980", "theme": "dark"},
}


@pytest.mark.parametrize("name", list(PLACEMENTS))
def test_axe_has_no_violations(live_server, shop, page: Page, name: str) -> None:
    create_survey(live_server, "nps", "ask_nps", appearance=PLACEMENTS[name],
                  texts={"en": {"followup": "Why?"}})
    ask(live_server, "axe", "ask_nps")
    open_shop(page, live_server, shop, user="axe")
    expect(page.get_by_role("radiogroup")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("radio", name="3", exact=True).click()  # follow-up stage
    expect(page.locator(HOST).locator("textarea")).to_be_visible()
    assert axe_violations(page) == []


def test_axe_labelled_scale_and_dark_scheme(live_server, shop, page: Page) -> None:
    page.emulate_media(color_scheme="dark")
    create_survey(live_server, "csat5", "ask_csat")
    ask(live_server, "axe2", "ask_csat")
    open_shop(page, live_server, shop, user="axe2")
    expect(page.get_by_role("radiogroup")).to_be_visible()
    bg = page.locator(HOST).locator("dialog").evaluate("e => getComputedStyle(e).backgroundColor")
    assert bg == "rgb(31, 31, 31)"  # prefers-color-scheme: dark followed
    assert axe_violations(page) == []


def test_centre_modal_keeps_focus_inside(live_server, shop, page: Page) -> None:
    create_survey(live_server, "ces5", "ask_ces5", appearance={"placement": "center"})
    ask(live_server, "modal", "ask_ces5")
    open_shop(page, live_server, shop, user="modal")
    expect(page.get_by_role("dialog")).to_be_visible()
    # A native modal dialog: the page behind is inert, so Tab never reaches its controls (after the
    # last control focus may go to the browser's own UI, as with every native modal dialog).
    for _ in range(8):
        page.keyboard.press("Tab")
        assert page.evaluate("(a => a === document.body || a.hasAttribute('data-ces'))(document.activeElement)")
    assert page.evaluate("document.querySelector('#pay').matches(':focus')") is False
