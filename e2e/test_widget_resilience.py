"""Never lose an answer, never crash the page: lost acks, reloads, drops, bad servers, bad keys."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from test_widget_support import (HOST, answers, ask, console_warnings, open_shop, prompt_status, shop,
                                 user_hash, wait_until)

STUB = "<script>window.ces=window.ces||function(){(ces.q=ces.q||[]).push(arguments)};</script>"


def outbox(page: Page) -> dict:
    return json.loads(page.evaluate("localStorage.getItem('ces_out') || '{}'"))


@pytest.mark.parametrize("lost", ["ack", "answer"])
def test_connection_lost_after_the_click_answer_arrives_exactly_once(live_server, shop, page: Page,
                                                                     lost: str) -> None:
    """The socket dies after the click: before the answer reached the server, or after it was
    stored but before the ack came back. The widget reconnects, re-sends, one answer is stored."""
    sent_answers: list[dict] = []
    state = {"cut": False}

    def handler(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def to_server(message: str | bytes) -> None:
            msg = json.loads(message)
            if msg["type"] == "answer":
                sent_answers.append(msg)
                if lost == "answer" and not state["cut"]:
                    state["cut"] = True
                    ws.close()
                    server.close()
                    return
            server.send(message)

        def to_page(message: str | bytes) -> None:
            msg = json.loads(message)
            if lost == "ack" and msg["type"] == "ack" and str(msg.get("ref", "")).startswith("a") and not state["cut"]:
                state["cut"] = True
                ws.close()
                server.close()
                return
            ws.send(message)

        ws.on_message(to_server)
        server.on_message(to_page)

    page.route_web_socket(re.compile(r".*/ws$"), handler)
    prompt_id = ask(live_server, f"lost-{lost}")
    open_shop(page, live_server, shop, user=f"lost-{lost}")
    page.get_by_role("radio", name="6", exact=True).click()
    wait_until(lambda: len(sent_answers) >= 2, timeout=10, page=page)  # re-sent after the reconnect
    wait_until(lambda: outbox(page) == {}, page=page)  # acked at last
    assert [a["score"] for a in answers(live_server, prompt_id)] == [6]
    assert prompt_status(live_server, prompt_id) == "answered"


def test_tab_closed_before_the_ack_sends_the_answer_on_the_next_visit(live_server, shop, page: Page) -> None:
    held: list[dict] = []

    def hold_answers(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda m: held.append(json.loads(m)) if json.loads(m)["type"] == "answer" else server.send(m))
        server.on_message(lambda m: ws.send(m))

    page.route_web_socket(re.compile(r".*/ws$"), hold_answers)
    prompt_id = ask(live_server, "leaver")
    open_shop(page, live_server, shop, user="leaver")
    page.get_by_role("radio", name="7, Strongly agree").click()
    wait_until(lambda: held, page=page)
    assert list(outbox(page)) == ["a" + prompt_id]
    page.close()  # the answer never reached the server
    assert answers(live_server, prompt_id) == []

    later = page.context.new_page()
    later.goto(shop.url + "/")  # same site, next visit: re-sent from localStorage
    wait_until(lambda: answers(live_server, prompt_id), page=later)
    assert [a["score"] for a in answers(live_server, prompt_id)] == [7]
    wait_until(lambda: outbox(later) == {}, page=later)
    expect(later.locator(HOST)).to_have_count(0)  # answered: not shown again


def test_reconnects_with_backoff_and_gets_the_pending_prompt(live_server, shop, page: Page) -> None:
    cut = {"n": 0, "calls": 0}

    def flaky(ws: WebSocketRoute) -> None:
        cut["calls"] += 1
        if cut["n"] < 2:  # the first two connections die at once
            cut["n"] += 1
            ws.close()
            return
        server = ws.connect_to_server()
        ws.on_message(lambda m: server.send(m))
        server.on_message(lambda m: ws.send(m))

    page.route_web_socket(re.compile(r".*/ws$"), flaky)
    open_shop(page, live_server, shop, user="flaky")
    prompt_id = ask(live_server, "flaky")
    expect(page.get_by_role("radiogroup")).to_be_visible(timeout=10_000)
    assert cut["calls"] == 3
    page.get_by_role("radio", name="5", exact=True).click()
    wait_until(lambda: answers(live_server, prompt_id), page=page)


def test_malformed_server_messages_are_ignored_with_a_warning(live_server, shop, page: Page) -> None:
    junk = ["not json", "[]", "null", "42", '{"type":"weird"}', '{"type":"__proto__"}', '{"type":"prompt"}',
            '{"type":"prompt","prompt":{"id":"p1"}}', '{"type":"prompt","prompt":{"id":"p2","survey":'
            '{"min":1,"max":1000}}}', '{"type":"close"}', '{"type":"ack"}', '{"type":"error"}',
            '{"type":"welcome"}']
    errors: list = []
    page.on("pageerror", lambda e: errors.append(e))
    warnings = console_warnings(page)

    def garbage(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda m: server.send(m))

        def to_page(m: str | bytes) -> None:
            ws.send(m)
            if json.loads(m)["type"] == "welcome":
                for j in junk:
                    ws.send(j)
        server.on_message(to_page)

    page.route_web_socket(re.compile(r".*/ws$"), garbage)
    open_shop(page, live_server, shop, user="junk")
    wait_until(lambda: len(warnings) >= 9, page=page)
    prompt_id = ask(live_server, "junk")  # still works afterwards
    page.get_by_role("radio", name="6", exact=True).click()
    wait_until(lambda: answers(live_server, prompt_id), page=page)
    assert errors == []
    assert all(w.startswith("ces:") for w in warnings)


def test_unknown_site_goes_quiet(live_server, shop, page: Page) -> None:
    connections: list = []
    page.on("websocket", lambda ws: connections.append(ws))
    warnings = console_warnings(page)
    shop.pages["/"] = (f'<!doctype html><html lang="en"><head><title>x</title></head><body><main>x</main>'
                       f'<script async src="{live_server.url}/widget.js" data-site="no-such-site"></script>'
                       '</body></html>')
    page.goto(shop.url + "/")
    wait_until(lambda: warnings, page=page)
    page.wait_for_timeout(3000)  # several backoff periods
    assert len(connections) == 1
    assert len(warnings) == 1 and "unknown_site" in warnings[0]


def test_identity_verified_site_refuses_a_forged_user(live_server, shop, page: Page) -> None:
    live_server.services.storage.set_identity_verification(live_server.site["id"], True)
    ask(live_server, "victim")
    connections: list = []
    page.on("websocket", lambda ws: connections.append(ws))
    warnings = console_warnings(page)
    open_shop(page, live_server, shop, "/forged", user="victim", user_hash="0" * 64)
    wait_until(lambda: warnings, page=page)
    page.wait_for_timeout(1500)
    assert "bad_user_hash" in warnings[0] and len(warnings) == 1
    assert len(connections) == 1
    expect(page.locator(HOST)).to_have_count(0)

    real = page.context.new_page()
    open_shop(real, live_server, shop, "/real", user="victim", user_hash=user_hash(live_server, "victim"))
    expect(real.get_by_role("radiogroup")).to_be_visible()


def test_two_tabs_show_the_prompt_and_both_close(live_server, shop, page: Page) -> None:
    other = page.context.new_page()
    open_shop(page, live_server, shop, "/a", user="tabs")
    open_shop(other, live_server, shop, "/b", user="tabs")
    page.wait_for_timeout(300)
    prompt_id = ask(live_server, "tabs")
    expect(page.get_by_role("radiogroup")).to_be_visible()
    expect(other.get_by_role("radiogroup")).to_be_visible()
    other.get_by_role("radio", name="6", exact=True).click()
    expect(page.locator(HOST)).to_have_count(0)  # closed by the server's `close`
    wait_until(lambda: answers(live_server, prompt_id), page=page)
    assert len(answers(live_server, prompt_id)) == 1


def test_command_queue_identify_track_and_callbacks(live_server, shop, page: Page) -> None:
    events: list = []
    page.expose_function("record", lambda kind, data: events.append((kind, data)))
    sent: list[dict] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(json.loads(f))))
    storage = live_server.services.storage
    with storage.write() as db:  # let the default trigger accept in-page events too
        db.execute("update triggers set source = 'any' where event_name = 'checkout_completed'")
    open_shop(page, live_server, shop, before=STUB + "<script>ces('on','shown',function(e){record('shown',e)});"
              "ces('on','answer',function(e){record('answer',e)});ces('identify','spa-user',{plan:'pro'});"
              "ces('track','checkout_completed',{total:79.9});ces('bogus');</script>")
    expect(page.get_by_role("radiogroup")).to_be_visible()  # decided on the widget's own event
    page.get_by_role("radio", name="6", exact=True).click()
    wait_until(lambda: len(events) == 2, page=page)
    assert [k for k, _ in events] == ["shown", "answer"] and events[1][1]["score"] == 6
    hello = sent[0]
    assert (hello["type"], hello["user"], hello["anonymous"], hello["traits"]) == ("hello", "spa-user", False,
                                                                                   {"plan": "pro"})
    assert any(m["type"] == "event" and m["name"] == "checkout_completed" and m["event_id"] for m in sent)
    # log-out: back to a new anonymous id, told to the server
    anon = page.evaluate("JSON.parse(localStorage.getItem('ces_anon'))")
    page.evaluate("ces('reset')")
    wait_until(lambda: any(m["type"] == "reset" for m in sent), page=page)
    reset = [m for m in sent if m["type"] == "reset"][0]
    assert reset["user"].startswith("anon-") and reset["user"] != anon


def test_anonymous_visitor_keeps_its_id(live_server, shop, page: Page) -> None:
    sent: list[dict] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(json.loads(f))))
    open_shop(page, live_server, shop)
    wait_until(lambda: sent, page=page)
    first = sent[0]
    assert first["anonymous"] is True and first["user"].startswith("anon-")
    page.reload()
    wait_until(lambda: len(sent) > 1, page=page)
    assert [m for m in sent if m["type"] == "hello"][1]["user"] == first["user"]
