"""Keyboard only: focus moves into the prompt, arrows pick, Enter answers, Escape dismisses,
focus goes back where it was."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from test_widget_support import HOST, answers, ask, open_shop, prompt_status, shadow_active, shop, wait_until


def test_keyboard_only_answer_comment_and_focus_restored(live_server, shop, page: Page) -> None:
    open_shop(page, live_server, shop, user="kb")
    page.locator("#note").focus()
    prompt_id = ask(live_server, "kb")  # pushed live to the open page
    expect(page.get_by_role("radiogroup")).to_be_visible()
    wait_until(lambda: shadow_active(page))
    assert shadow_active(page)["label"] == "1, Strongly disagree"  # focus moved into the prompt
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert shadow_active(page)["text"] == "4"
    expect(page.get_by_role("radio", name="4", exact=True)).to_have_attribute("aria-checked", "true")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    wait_until(lambda: answers(live_server, prompt_id))
    assert answers(live_server, prompt_id)[0]["score"] == 4
    # 4 <= followup max_score 4: the follow-up textarea has focus
    wait_until(lambda: (shadow_active(page) or {}).get("tag") == "TEXTAREA")
    page.keyboard.type("Too many steps")
    page.keyboard.press("Tab")  # Skip
    page.keyboard.press("Tab")  # Send
    assert shadow_active(page)["text"] == "Send"
    page.keyboard.press("Enter")
    wait_until(lambda: answers(live_server, prompt_id)[0]["comment"] == "Too many steps")
    expect(page.locator(HOST)).to_have_count(0, timeout=6000)
    expect(page.locator("#note")).to_be_focused()  # focus restored


def test_space_answers_and_home_end_move(live_server, shop, page: Page) -> None:
    prompt_id = ask(live_server, "kb2")
    open_shop(page, live_server, shop, user="kb2")
    expect(page.get_by_role("radiogroup")).to_be_visible()
    wait_until(lambda: shadow_active(page))
    page.keyboard.press("End")
    assert shadow_active(page)["text"] == "7"
    page.keyboard.press("ArrowRight")  # wraps around
    assert shadow_active(page)["text"] == "1"
    page.keyboard.press("Home")
    page.keyboard.press("ArrowDown")
    page.keyboard.press(" ")
    wait_until(lambda: answers(live_server, prompt_id))
    assert answers(live_server, prompt_id)[0]["score"] == 2


def test_escape_dismisses(live_server, shop, page: Page) -> None:
    dismissed: list = []
    page.expose_function("onDismiss", lambda x: dismissed.append(x))
    open_shop(page, live_server, shop, user="esc",
              before="<script>window.ces=window.ces||function(){(ces.q=ces.q||[]).push(arguments)};"
                     "ces('on','dismiss',function(e){onDismiss(e)})</script>")
    prompt_id = ask(live_server, "esc")
    expect(page.get_by_role("radiogroup")).to_be_visible()
    wait_until(lambda: shadow_active(page))
    page.keyboard.press("Escape")
    expect(page.locator(HOST)).to_have_count(0)
    wait_until(lambda: prompt_status(live_server, prompt_id) == "dismissed")
    assert answers(live_server, prompt_id) == []
    wait_until(lambda: dismissed)
    assert dismissed[0]["prompt"] == prompt_id


def test_close_button_dismisses(live_server, shop, page: Page) -> None:
    prompt_id = ask(live_server, "closer")
    open_shop(page, live_server, shop, user="closer")
    page.locator(HOST).get_by_role("button", name="Close").click()
    expect(page.locator(HOST)).to_have_count(0)
    wait_until(lambda: prompt_status(live_server, prompt_id) == "dismissed")
