"""axe-core finds nothing to report, in every placement, theme and stage of the prompt."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from test_widget_support import HOST, ask, axe_violations, create_survey, open_shop, shadow_active, shop

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
    """Tab and Shift+Tab wrap around the dialog's controls, at the scale and at the follow-up."""
    create_survey(live_server, "nps", "ask_nps", appearance={"placement": "center"},
                  texts={"en": {"followup": "Why?"}})
    ask(live_server, "modal", "ask_nps")
    open_shop(page, live_server, shop, user="modal")
    expect(page.get_by_role("dialog")).to_be_visible()

    def cycle(key: str, presses: int) -> list[str]:
        seen = []
        for _ in range(presses):
            page.keyboard.press(key)
            now = shadow_active(page)
            assert now is not None, f"{key} left the dialog"
            seen.append(now["text"] if now["role"] == "radio" else now["label"] or now["text"])
        return seen

    assert (shadow_active(page) or {}).get("text") == "0"  # the first point has focus
    # scale stage: the close button and the radio group (one stop) -> Tab alternates between them
    assert cycle("Tab", 4) == ["Close", "0", "Close", "0"]
    assert cycle("Shift+Tab", 4) == ["Close", "0", "Close", "0"]
    page.keyboard.press("Space")  # answers 0 -> the follow-up: close, textarea, Skip, Send
    expect(page.locator(HOST).locator("textarea")).to_be_focused()
    assert cycle("Tab", 5) == ["Skip", "Send", "Close", "", "Skip"]  # "" is the textarea
    assert cycle("Shift+Tab", 5) == ["", "Close", "Send", "Skip", ""]
    assert page.evaluate("document.querySelector('#pay').matches(':focus')") is False
