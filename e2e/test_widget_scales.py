"""Each scale renders the right points and submits the clicked score; the follow-up and thanks."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ces.core.metrics import get_metric
from test_widget_support import HOST, shop, answers, ask, create_survey, open_shop, prompt_status, wait_until

# metric -> the score clicked (not an end point, so a wrong offset cannot pass by luck)
CASES = {"ces7": 6, "ces5": 2, "csat5": 4, "nps": 9, "ves7": 3}


@pytest.mark.parametrize("metric", list(CASES))
def test_scale_renders_and_submits_the_clicked_score(live_server, shop, page: Page, metric: str) -> None:
    m = get_metric(metric)
    create_survey(live_server, metric, f"ask_{metric}")
    prompt_id = ask(live_server, f"user-{metric}", f"ask_{metric}")
    open_shop(page, live_server, shop, user=f"user-{metric}")

    radios = page.get_by_role("radiogroup").get_by_role("radio")
    expect(radios).to_have_count(m.max - m.min + 1)
    labels = list(m.point_labels)
    if any(labels):  # labelled scales show the label of each point on its button
        expect(radios).to_have_text(labels)
    else:
        expect(radios).to_have_text([str(i) for i in range(m.min, m.max + 1)])
    score = CASES[metric]
    radios.nth(score - m.min).click()

    wait_until(lambda: answers(live_server, prompt_id))
    assert [a["score"] for a in answers(live_server, prompt_id)] == [score]
    assert prompt_status(live_server, prompt_id) == "answered"
    # no follow-up on these surveys: thanks, then the prompt removes itself
    expect(page.locator(HOST).get_by_text("Thank you!")).to_be_visible()
    expect(page.locator(HOST)).to_have_count(0, timeout=6000)


def test_default_ces7_shows_end_labels(live_server, shop, page: Page) -> None:
    ask(live_server, "labels-user")
    open_shop(page, live_server, shop, user="labels-user")
    group = page.get_by_role("radiogroup", name="The company made it easy for me to handle my issue.")
    expect(group).to_be_visible()
    expect(group.get_by_role("radio", name="1, Strongly disagree")).to_be_visible()
    expect(group.get_by_role("radio", name="7, Strongly agree")).to_be_visible()
    expect(page.locator(HOST).get_by_text("Strongly disagree")).to_be_visible()


def test_low_score_asks_the_follow_up_and_stores_the_comment(live_server, shop, page: Page) -> None:
    prompt_id = ask(live_server, "unhappy")
    open_shop(page, live_server, shop, user="unhappy")
    page.get_by_role("radio", name="2", exact=True).click()
    # the score is stored at the click, before any comment
    wait_until(lambda: answers(live_server, prompt_id))
    box = page.get_by_role("textbox", name="What could we have done to make it easier?")
    expect(box).to_be_focused()
    box.fill("The <b>coupon</b> field was hidden")
    page.locator(HOST).get_by_role("button", name="Send").click()
    expect(page.locator(HOST).get_by_text("Thank you!")).to_be_visible()
    wait_until(lambda: answers(live_server, prompt_id)[0]["comment"])
    row = answers(live_server, prompt_id)[0]
    assert (row["score"], row["comment"]) == (2, "The <b>coupon</b> field was hidden")


def test_high_score_skips_the_follow_up(live_server, shop, page: Page) -> None:
    prompt_id = ask(live_server, "happy")
    open_shop(page, live_server, shop, user="happy")
    page.get_by_role("radio", name="5", exact=True).click()
    expect(page.locator(HOST).get_by_text("Thank you!")).to_be_visible()
    expect(page.locator(HOST).locator("textarea")).to_have_count(0)
    wait_until(lambda: answers(live_server, prompt_id))
    assert answers(live_server, prompt_id)[0]["score"] == 5


def test_skip_after_a_low_score_keeps_the_score(live_server, shop, page: Page) -> None:
    prompt_id = ask(live_server, "skipper")
    open_shop(page, live_server, shop, user="skipper")
    page.get_by_role("radio", name="1, Strongly disagree").click()
    page.locator(HOST).get_by_role("button", name="Skip").click()
    expect(page.locator(HOST).get_by_text("Thank you!")).to_be_visible()
    wait_until(lambda: answers(live_server, prompt_id))
    row = answers(live_server, prompt_id)[0]
    assert (row["score"], row["comment"]) == (1, None)
