"""The host page cannot reach into the widget, and the widget changes nothing outside it."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from test_widget_support import ask, create_survey, host_html, open_shop, shop

HOSTILE = (Path(__file__).parent / "pages" / "hostile.css").read_text()
PROPS = ["display", "position", "font-size", "font-family", "line-height", "letter-spacing", "color",
         "background-color", "padding-top", "margin-left", "border-top-width", "border-top-style",
         "visibility", "width", "height"]

INSIDE = """props => {
  const h = document.querySelector('[data-ces]');
  const out = {host: {}};
  const hs = getComputedStyle(h);
  for (const p of ['display', 'position', 'z-index', 'width', 'right', 'bottom']) out.host[p] = hs.getPropertyValue(p);
  [...h.shadowRoot.querySelectorAll('*')].forEach((e, i) => {
    if (e.tagName === 'STYLE') return;
    const s = getComputedStyle(e), r = e.getBoundingClientRect();
    out[i + ':' + e.tagName + ':' + e.className] = props.map(p => s.getPropertyValue(p)).concat(
      [r.x, r.y, r.width, r.height].map(Math.round));
  });
  return out;
}"""

OUTSIDE = """props => [...document.querySelectorAll('*')].filter(e => !e.closest('[data-ces]'))
  .map(e => e.tagName + '#' + e.id + ':' + props.map(p => getComputedStyle(e).getPropertyValue(p)).join('|')
       + ':' + JSON.stringify(e.getBoundingClientRect()))"""

SIBLING_CSS = ("<style>body > :last-child { color: rgb(1, 2, 3) } main > :last-child { margin-top: 7px }"
               " div + div { padding-left: 5px } * + p { letter-spacing: 1px }</style>")


def show_prompt(live_server, shop, page: Page, user: str, head: str, appearance: dict) -> None:
    page.set_viewport_size({"width": 1000, "height": 700})
    create_survey(live_server, "ces7", f"ask_{user}", appearance=appearance)
    ask(live_server, user, f"ask_{user}")
    open_shop(page, live_server, shop, f"/{user}", user=user, head=head)
    expect(page.get_by_role("radiogroup")).to_be_visible()
    page.wait_for_timeout(300)  # entrance animation over


@pytest.mark.parametrize("appearance", [{"placement": "bottom-right"}, {"placement": "center"},
                                        {"placement": "inline", "target": "#slot"}])
def test_hostile_stylesheet_changes_nothing_inside(live_server, shop, page: Page, appearance: dict) -> None:
    show_prompt(live_server, shop, page, "plain", "", appearance)
    plain = page.evaluate(INSIDE, PROPS)
    show_prompt(live_server, shop, page, "hostile", f"<style>{HOSTILE}</style>", appearance)
    hostile = page.evaluate(INSIDE, PROPS)
    if appearance["placement"] == "inline":  # the slot's own box differs on the hostile page
        for styles in (plain, hostile):
            styles.pop("host")
            for key, values in styles.items():
                styles[key] = values[:-4] if key != "host" else values
    assert hostile == plain
    assert len(plain) > 10


def test_widget_changes_nothing_outside(live_server, shop, page: Page) -> None:
    """The same page with and without the widget (its script tag kept, but empty), prompt shown."""
    page.set_viewport_size({"width": 1000, "height": 700})
    ask(live_server, "outside")
    with_widget = host_html(live_server, user="outside", head=SIBLING_CSS)
    shop.pages["/without"] = with_widget.replace(f'src="{live_server.url}/widget.js"', 'src="data:text/javascript,"')
    assert shop.pages["/without"] != with_widget
    page.goto(shop.url + "/without")
    page.wait_for_load_state("load")
    globals_before = set(page.evaluate("Object.keys(window)"))
    before = page.evaluate(OUTSIDE, PROPS)
    sheets_before = page.evaluate("document.styleSheets.length")
    shop.pages["/with"] = with_widget
    page.goto(shop.url + "/with")
    expect(page.get_by_role("radiogroup")).to_be_visible()
    assert page.evaluate(OUTSIDE, PROPS) == before
    assert page.evaluate("document.styleSheets.length") == sheets_before
    assert set(page.evaluate("Object.keys(window)")) - globals_before == {"ces"}
