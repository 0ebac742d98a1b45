"""The newcomer's path: the demo shop, a checkout, the prompt, a click on 6, the score."""
from __future__ import annotations

from playwright.sync_api import Page, expect


def test_demo_checkout_prompt_answer_and_score(live_server, page: Page) -> None:
    page.goto(f"{live_server.url}/demo/?user=shopper-e2e")
    expect(page.locator("#score")).to_have_text("–")

    page.get_by_role("button", name="Complete checkout").click()
    expect(page.locator("#decision")).to_contain_text("prompt: prompted")

    # The widget renders in a shadow root; Playwright's role locators pierce it.
    group = page.get_by_role("radiogroup")
    expect(group).to_be_visible()
    group.get_by_role("radio", name="6", exact=False).first.click()

    storage = live_server.services.storage
    live_server.wait_for(lambda: storage.one("select score from answers where user_id = 'shopper-e2e'") is not None)
    assert storage.one("select score from answers where user_id = 'shopper-e2e'")["score"] == 6
    assert live_server.score()["n"] == 1
    expect(page.locator("#score")).to_have_text("100.0 %", timeout=10_000)
