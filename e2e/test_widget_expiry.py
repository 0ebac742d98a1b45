"""A prompt's `expires_at`: it goes away when it expires on screen, and an expired one never shows.

The server's prompt messages pass through Playwright's websocket router, which rewrites their
`expires_at` (server epoch seconds) to a moment a second or so away: the server's own expiry is
hours away, too long to wait for.
"""
from __future__ import annotations

import json
import re
import time
from typing import Any, Callable

from playwright.sync_api import Page, WebSocketRoute, expect

from test_widget_support import HOST, answers, ask, open_shop, shop, wait_until  # noqa: F401 (fixture)


def rewrite_prompts(page: Page, change: Callable[[dict[str, Any], WebSocketRoute], None]) -> list[dict[str, Any]]:
    """Route the widget's socket; `change(prompt_message, ws)` may edit each prompt message before it
    reaches the page. Returns the list the page's own messages are appended to."""
    sent: list[dict[str, Any]] = []

    def handler(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def to_server(message: str | bytes) -> None:
            sent.append(json.loads(message))
            server.send(message)

        def to_page(message: str | bytes) -> None:
            msg = json.loads(message)
            if msg["type"] == "prompt":
                change(msg, ws)
                message = json.dumps(msg)
            ws.send(message)

        ws.on_message(to_server)
        server.on_message(to_page)

    page.route_web_socket(re.compile(r".*/ws$"), handler)
    return sent


def test_prompt_disappears_when_it_expires_on_screen(live_server, shop, page: Page) -> None:
    def soon(msg: dict[str, Any], ws: WebSocketRoute) -> None:
        msg["prompt"]["expires_at"] = time.time() + 1.5

    sent = rewrite_prompts(page, soon)
    prompt_id = ask(live_server, "expiring")
    open_shop(page, live_server, shop, user="expiring")
    expect(page.get_by_role("radiogroup")).to_be_visible()
    assert page.evaluate("document.activeElement.hasAttribute('data-ces')")  # focus moved in
    expect(page.locator(HOST)).to_have_count(0, timeout=5_000)  # gone by itself at expiry
    assert page.evaluate("document.activeElement === document.body")  # focus given back
    page.wait_for_timeout(200)
    types = [m["type"] for m in sent]
    assert "shown" in types and "dismiss" not in types and "answer" not in types  # not the user's doing
    assert answers(live_server, prompt_id) == []


def test_prompt_expired_on_arrival_is_not_shown(live_server, shop, page: Page) -> None:
    def expired_then_fresh(msg: dict[str, Any], ws: WebSocketRoute) -> None:
        fresh = json.loads(json.dumps(msg))
        msg["prompt"]["expires_at"] = time.time() - 1  # already expired: must be skipped
        fresh["prompt"]["id"] = "fresh-" + fresh["prompt"]["id"]
        fresh["prompt"]["survey"]["question"] = "Fresh question"
        ws.send(json.dumps(msg))  # the expired one first; the page handles messages in order
        msg.clear()
        msg.update(fresh)  # then this one, which is shown

    sent = rewrite_prompts(page, expired_then_fresh)
    prompt_id = ask(live_server, "late")
    open_shop(page, live_server, shop, user="late")
    group = page.get_by_role("radiogroup")
    expect(group).to_be_visible()
    expect(group).to_have_accessible_name("Fresh question")
    expect(page.locator(HOST)).to_have_count(1)
    wait_until(lambda: any(m["type"] == "shown" for m in sent), page=page)
    page.wait_for_timeout(200)
    assert [m["prompt"] for m in sent if m["type"] == "shown"] == ["fresh-" + prompt_id]


def test_prompt_expiring_while_waiting_its_turn_is_never_shown(live_server, shop, page: Page) -> None:
    """Two prompts: the second waits behind the first and expires meanwhile."""
    def queue_a_short_one(msg: dict[str, Any], ws: WebSocketRoute) -> None:
        short = json.loads(json.dumps(msg))
        short["prompt"]["id"] = "short-" + short["prompt"]["id"]
        short["prompt"]["survey"]["question"] = "Short-lived question"
        short["prompt"]["expires_at"] = time.time() + 0.5
        ws.send(json.dumps(msg))
        msg.clear()
        msg.update(short)

    sent = rewrite_prompts(page, queue_a_short_one)
    prompt_id = ask(live_server, "queued")
    open_shop(page, live_server, shop, user="queued")
    expect(page.get_by_role("radiogroup")).to_be_visible()
    page.wait_for_timeout(700)  # the queued one has expired by now
    page.get_by_role("radio", name="6", exact=True).click()
    wait_until(lambda: answers(live_server, prompt_id), page=page)
    expect(page.locator(HOST)).to_have_count(0, timeout=6_000)  # thanks closed; nothing follows
    page.wait_for_timeout(200)
    expect(page.locator(HOST)).to_have_count(0)
    assert [m["prompt"] for m in sent if m["type"] == "shown"] == [prompt_id]
