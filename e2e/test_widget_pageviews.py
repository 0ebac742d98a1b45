"""Page targeting in Chromium: with `data-pageviews` the widget reports each page view (and each
single-page navigation) as a `page_view` event with its path, and a trigger on the path prompts;
and the tab's visit id, kept across reloads, reaches the server."""
from __future__ import annotations

import json
import time

from playwright.sync_api import Page, expect

from test_widget_support import HOST, open_shop, shop, wait_until  # noqa: F401


def page_view_trigger(server, **conditions_of_path: str) -> None:
    storage, now = server.services.storage, server.clock()
    storage.create_trigger(server.site["id"], now, name="thanks page", event_name="page_view", source="any",
                           survey_id=server.survey_id, conditions={"all": [
                               {"field": "properties.path", "op": op, "value": value}
                               for op, value in conditions_of_path.items()]})


def page_views(server, user: str) -> list[str]:
    rows = server.services.storage.all("select properties from events where user_id = ? and name = 'page_view' "
                                       "order by id", [user])
    return [r["properties"]["path"] for r in rows]


def test_a_page_view_trigger_prompts_in_the_browser(live_server, shop, page: Page) -> None:
    page_view_trigger(live_server, starts_with="/checkout/thanks")
    open_shop(page, live_server, shop, path="/cart", user="pv-user", pageviews="")
    wait_until(lambda: page_views(live_server, "pv-user") == ["/cart"], page=page)
    expect(page.locator(HOST)).to_have_count(0)
    shop.pages["/checkout/thanks/o-981"] = shop.pages["/cart"]
    page.goto(shop.url + "/checkout/thanks/o-981?coupon=SAVE10")
    expect(page.get_by_role("radiogroup")).to_be_visible()
    # The query string is not sent unless asked for.
    assert page_views(live_server, "pv-user") == ["/cart", "/checkout/thanks/o-981"]
    row = live_server.services.storage.one("select decision, source from events where user_id = 'pv-user' "
                                           "order by id desc limit 1")
    assert (row["decision"], row["source"]) == ("prompt", "widget")


def test_single_page_navigation_and_the_query_option(live_server, shop, page: Page) -> None:
    page_view_trigger(live_server, glob="/app/*/done")
    open_shop(page, live_server, shop, path="/app", user="spa-user", pageviews="query")
    wait_until(lambda: page_views(live_server, "spa-user") == ["/app"], page=page)
    page.evaluate("history.pushState({}, '', '/app/step-1?x=1')")
    page.evaluate("history.replaceState({}, '', '/app/step-1?x=1')")  # the same page: not a new view
    wait_until(lambda: page_views(live_server, "spa-user") == ["/app", "/app/step-1?x=1"], page=page)
    expect(page.locator(HOST)).to_have_count(0)
    page.evaluate("history.pushState({}, '', '/app/order-7/done')")
    expect(page.get_by_role("radiogroup")).to_be_visible()
    page.go_back()
    wait_until(lambda: page_views(live_server, "spa-user")[-1] == "/app/step-1?x=1", page=page)


def test_no_page_views_without_the_attribute(live_server, shop, page: Page) -> None:
    page_view_trigger(live_server, starts_with="/")
    sent: list[dict] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(json.loads(f))))
    open_shop(page, live_server, shop, user="quiet-user")
    wait_until(lambda: any(m["type"] == "hello" for m in sent), page=page)
    page.wait_for_timeout(300)
    assert [m for m in sent if m["type"] == "event"] == [] and page_views(live_server, "quiet-user") == []


def test_the_visit_id_survives_a_reload_and_differs_per_tab(live_server, shop, page: Page) -> None:
    sent: list[dict] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(json.loads(f))))
    open_shop(page, live_server, shop, user="visitor")
    wait_until(lambda: [m for m in sent if m["type"] == "hello"], page=page)
    page.reload()
    wait_until(lambda: len([m for m in sent if m["type"] == "hello"]) == 2, page=page)
    first, again = [m["visit"] for m in sent if m["type"] == "hello"]
    assert first and first == again
    other = page.context.new_page()
    other_sent: list[dict] = []
    other.on("websocket", lambda ws: ws.on("framesent", lambda f: other_sent.append(json.loads(f))))
    other.goto(page.url)
    wait_until(lambda: [m for m in other_sent if m["type"] == "hello"], page=other)
    assert [m["visit"] for m in other_sent if m["type"] == "hello"][0] != first
    # The frame is sent before the server has stored the visit it opens: poll for the rows.
    want = {first, other_sent[0]["visit"]}

    def stored() -> set[str]:
        rows = live_server.services.storage.all("select visit_id from visits where user_id = 'visitor'")
        return {r["visit_id"] for r in rows}
    deadline = time.monotonic() + 8
    while stored() != want and time.monotonic() < deadline:
        other.wait_for_timeout(25)
    assert stored() == want
