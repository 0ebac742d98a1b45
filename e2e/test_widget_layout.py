"""Layout on a 320 px wide screen, and `prefers-reduced-motion`."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ces.core.metrics import get_metric
from test_widget_support import HOST, answers, ask, create_survey, open_shop, shop, wait_until  # noqa: F401

# Every box inside the widget, and each scale point's box and hit-test result at its centre.
GEOMETRY = """() => {
  const root = document.querySelector('[data-ces]').shadowRoot;
  const box = e => { const r = e.getBoundingClientRect(); return {l: r.left, r: r.right, w: r.width, h: r.height}; };
  return {
    viewport: document.documentElement.clientWidth,
    scrollWidth: document.documentElement.scrollWidth,
    boxes: [...root.querySelectorAll('*')].filter(e => e.tagName != 'STYLE').map(e => ({tag: e.tagName, ...box(e)})),
    points: [...root.querySelectorAll('[role=radio]')].map(e => {
      const r = e.getBoundingClientRect();
      return {...box(e), text: e.textContent,
              hit: root.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) === e};
    }),
  };
}"""

CASES = [("nps", "bottom-right"), ("nps", "center"), ("ces7", "bottom-left"), ("ces5", "center"),
         ("csat5", "bottom-right")]


@pytest.mark.parametrize(("metric", "placement"), CASES)
def test_320px_wide_nothing_overflows_and_every_point_is_clickable(live_server, shop, page: Page,
                                                                   metric: str, placement: str) -> None:
    m = get_metric(metric)
    page.set_viewport_size({"width": 320, "height": 640})
    create_survey(live_server, metric, f"ask_{metric}", appearance={"placement": placement})
    user = f"narrow-{metric}-{placement}"
    prompt_id = ask(live_server, user, f"ask_{metric}")
    open_shop(page, live_server, shop, user=user)
    radios = page.locator(HOST).get_by_role("radio")
    expect(radios).to_have_count(m.max - m.min + 1)
    page.wait_for_timeout(250)  # the 0.2 s entrance slide is over

    g = page.evaluate(GEOMETRY)
    assert g["viewport"] == 320
    assert g["scrollWidth"] <= 320, "the page scrolls sideways"
    outside = [b for b in g["boxes"] if b["w"] and (b["l"] < 0 or b["r"] > 320.5)]
    assert outside == [], outside
    assert len(g["points"]) == m.max - m.min + 1
    for p in g["points"]:
        assert p["w"] >= 20 and p["h"] >= 20, p  # a usable target
        assert p["hit"], f"point {p['text']} is covered at its centre"
    for i in range(radios.count()):
        radios.nth(i).click(trial=True)  # Playwright's own checks: visible, stable, receives the click
    radios.nth(radios.count() - 1).click()  # the last (right-most / lowest) point really answers
    wait_until(lambda: answers(live_server, prompt_id), page=page)
    assert [a["score"] for a in answers(live_server, prompt_id)] == [m.max]


MOTION = """() => {
  const root = document.querySelector('[data-ces]').shadowRoot;
  const all = [...root.querySelectorAll('*')];
  return {
    card: getComputedStyle(root.querySelector('.w')).animationName,
    animated: all.filter(e => getComputedStyle(e).animationName != 'none').map(e => e.tagName),
    transitions: all.filter(e => getComputedStyle(e).transitionDuration.split(',').some(d => parseFloat(d) > 0))
                    .map(e => e.tagName),
    running: root.getAnimations().length,
  };
}"""


@pytest.mark.parametrize("reduce", [True, False])
def test_reduced_motion_means_no_animation(live_server, shop, page: Page, reduce: bool) -> None:
    page.emulate_media(reduced_motion="reduce" if reduce else "no-preference")
    create_survey(live_server, "nps", "ask_nps", appearance={"placement": "center"})
    ask(live_server, f"motion-{reduce}", "ask_nps")
    open_shop(page, live_server, shop, user=f"motion-{reduce}")
    page.wait_for_function("document.querySelector('[data-ces]')?.shadowRoot.querySelector('[role=radio]')",
                           polling="raf")
    found = page.evaluate(MOTION)
    assert found["transitions"] == []  # the widget has no transitions at all
    if reduce:
        assert found == {"card": "none", "animated": [], "transitions": [], "running": 0}
    else:  # the control: the entrance slide exists without the preference
        assert found["card"] == "u" and found["animated"] == ["DIALOG"]
