"""The numeric ease scales in Chromium: they render, submit and are scored exactly; the 11-point
scales fit their "10" inside its button at the default width and at 320 px; and every built-in
text, in each of the five languages, is what the widget shows."""
from __future__ import annotations

import statistics

import pytest
from playwright.sync_api import Page, expect
from scipy import stats

from ces.core.metrics import METRICS, get_metric
from ces.core.texts import LANGUAGES, THANKS, UI, builtin
from test_widget_support import HOST, answers, ask, create_survey, open_shop, shop, wait_until  # noqa: F401


@pytest.mark.parametrize(("metric", "clicks"), [("ease0_10", [0, 7, 10, 4]), ("ease1_10", [1, 9, 10, 6])])
def test_ease_scale_renders_submits_and_scores_exactly(live_server, shop, page: Page, metric: str,
                                                       clicks: list[int]) -> None:
    m = get_metric(metric)
    survey = create_survey(live_server, metric, f"ask_{metric}")
    for i, score in enumerate(clicks):
        user = f"{metric}-{i}"
        prompt_id = ask(live_server, user, f"ask_{metric}")
        open_shop(page, live_server, shop, path=f"/{i}", user=user)
        radios = page.locator(HOST).get_by_role("radio")
        expect(radios).to_have_text([str(p) for p in m.points])
        expect(page.get_by_role("radiogroup", name=m.question)).to_be_visible()
        expect(page.locator(HOST).get_by_role("radio", name=f"{m.min}, Very difficult")).to_be_visible()
        expect(page.locator(HOST).get_by_role("radio", name=f"{m.max}, Very easy")).to_be_visible()
        radios.nth(score - m.min).click()
        wait_until(lambda: answers(live_server, prompt_id), page=page)
        assert [a["score"] for a in answers(live_server, prompt_id)] == [score]
        expect(page.locator(HOST).get_by_text("Thank you!")).to_be_visible()
    body = live_server.score(survey["id"])
    mean = statistics.fmean(clicks)
    low, high = stats.t.interval(0.95, len(clicks) - 1, loc=mean, scale=statistics.stdev(clicks) / len(clicks) ** 0.5)
    assert body["headline_name"] == "mean_ease" and body["n"] == len(clicks)
    assert body["headline"] == body["mean"] == round(mean, 2)
    assert body["headline_ci"] == {"low": round(max(m.min, low), 2), "high": round(min(m.max, high), 2)}
    assert body["distribution"] == {str(p): clicks.count(p) for p in m.points}


# The gap between each point's text and its button's border, on both sides (px).
MARGINS = """() => {
  const root = document.querySelector('[data-ces]').shadowRoot;
  return [...root.querySelectorAll('[role=radio]')].map(b => {
    const r = document.createRange(); r.selectNodeContents(b);
    const t = r.getBoundingClientRect(), o = b.getBoundingClientRect(), s = getComputedStyle(b);
    const bl = parseFloat(s.borderLeftWidth), br = parseFloat(s.borderRightWidth);
    return {text: b.textContent, left: t.left - (o.left + bl), right: (o.right - br) - t.right,
            scroll: b.scrollWidth - b.clientWidth};
  });
}"""


@pytest.mark.parametrize("metric", ["nps", "ease0_10", "ease1_10"])
@pytest.mark.parametrize("width", [1280, 320])
def test_every_point_fits_inside_its_button(live_server, shop, page: Page, metric: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 700})
    create_survey(live_server, metric, f"ask_{metric}")
    user = f"fit-{metric}-{width}"
    ask(live_server, user, f"ask_{metric}")
    open_shop(page, live_server, shop, user=user)
    expect(page.locator(HOST).get_by_role("radio")).to_have_count(len(get_metric(metric).points))
    page.wait_for_timeout(250)  # the entrance slide is over
    for point in page.evaluate(MARGINS):
        assert point["scroll"] == 0, point
        assert point["left"] >= 2 and point["right"] >= 2, point  # "10" no longer touches the border


CASES = [(lang, metric) for lang in LANGUAGES for metric in sorted(METRICS)]


@pytest.mark.parametrize(("lang", "metric"), CASES, ids=[f"{lang}-{metric}" for lang, metric in CASES])
def test_built_in_texts_in_every_language(live_server, shop, page: Page, lang: str, metric: str) -> None:
    """A survey created without texts, shown to a user of each language: the question, the labels,
    the buttons, the follow-up and the thanks all in that language."""
    m = get_metric(metric)
    want = builtin(metric, lang)
    create_survey(live_server, metric, f"ask_{metric}", followup_max_score=m.max)
    user = f"{lang}-{metric}"
    ask(live_server, user, f"ask_{metric}")
    open_shop(page, live_server, shop, user=user, locale=lang)
    widget = page.locator(HOST)
    expect(page.get_by_role("radiogroup", name=want["question"])).to_be_visible()
    expect(widget.get_by_role("button", name=UI[lang][0])).to_be_visible()
    radios = widget.get_by_role("radio")
    if want["labels"]:
        expect(radios).to_have_text(want["labels"])
    else:
        expect(widget.get_by_role("radio", name=f"{m.min}, {want['low_label']}")).to_be_visible()
        expect(widget.get_by_role("radio", name=f"{m.max}, {want['high_label']}")).to_be_visible()
        expect(widget.get_by_text(want["low_label"], exact=True)).to_be_visible()
    radios.nth(0).click()
    expect(widget.get_by_role("textbox", name=want["followup"])).to_be_visible()
    expect(widget.get_by_role("button", name=UI[lang][1])).to_be_visible()
    widget.get_by_role("button", name=UI[lang][2]).click()
    expect(widget.get_by_text(THANKS[lang], exact=True)).to_be_visible()
    assert widget.locator("section, dialog").get_attribute("lang") == lang


def test_csat_preset_from_the_api_in_german(live_server, shop, page: Page) -> None:
    status, survey = live_server.admin("POST", "/api/v1/surveys", {
        "name": "Quality", "metric": "csat5", "label_preset": "quality"})
    assert status == 201 and set(survey["texts"]) == set(LANGUAGES), survey
    live_server.services.storage.create_trigger(live_server.site["id"], live_server.clock(), name="q",
                                                event_name="ask_quality", survey_id=survey["id"])
    ask(live_server, "quality-de", "ask_quality")
    open_shop(page, live_server, shop, user="quality-de", locale="de-AT")
    want = builtin("csat5", "de", "quality")
    expect(page.get_by_role("radiogroup", name=want["question"])).to_be_visible()
    expect(page.locator(HOST).get_by_role("radio")).to_have_text(want["labels"])
