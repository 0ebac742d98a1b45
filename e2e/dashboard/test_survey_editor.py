"""The Surveys list and the Survey editor, in Chromium against a live server: create a survey
through the form, watch the real widget's preview follow the question as it is typed in two
languages and on another scale, validation messages next to their fields with nothing saved,
survey texts with HTML shown as text, axe-core clean, screenshots."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import FrameLocator, Page, expect

from dashboard_support import DESKTOP, PHONE, SCREENSHOTS, axe_violations, screenshot, site_url

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'


def preview(page: Page) -> FrameLocator:
    return page.frame_locator("#preview-frame")


def preview_question(page: Page):  # noqa: ANN201
    """The question as the widget drew it, inside its shadow root in the preview frame."""
    return preview(page).locator("[data-ces] .q")


def surveys(server: Any) -> list[dict[str, Any]]:
    status, body = server.admin("GET", "/api/v1/surveys")
    assert status == 200
    return body["items"]


def test_create_a_survey_with_a_live_preview_in_two_languages(dash: Page, live_server) -> None:
    page = dash
    page.get_by_role("link", name="Surveys").click()
    expect(page.get_by_role("heading", name="Surveys")).to_be_visible()
    page.get_by_role("link", name="New survey").click()
    expect(page.get_by_role("heading", name="New survey")).to_be_visible()
    # Before anything is typed, the widget shows the built-in CES 2.0 question.
    expect(preview_question(page)).to_have_text("The company made it easy for me to handle my issue.")

    page.get_by_label("Name").fill("Checkout effort")
    question = page.locator("#f-texts-en-question")
    question.press_sequentially("How easy was paying?", delay=15)
    expect(preview_question(page)).to_have_text("How easy was paying?")
    assert question.input_value() == "How easy was paying?"  # the preview never took the focus
    expect(question).to_be_focused()

    # A second language, added in place; the preview switches to it and follows its question.
    page.get_by_label("Add a language").fill("fr")
    page.get_by_role("button", name="Add language").click()
    french = page.locator("#f-texts-fr-question")
    expect(french).to_be_visible()
    expect(page.get_by_label("Language", exact=True)).to_have_value("fr")
    french.press_sequentially("Était-ce facile de payer ?", delay=15)
    expect(preview_question(page)).to_have_text("Était-ce facile de payer ?")
    # The widget's buttons speak French too (its close button's name comes from the server).
    expect(preview(page).locator("[data-ces] .x")).to_have_attribute("aria-label", "Fermer")
    page.get_by_label("Language", exact=True).select_option("en")
    expect(preview_question(page)).to_have_text("How easy was paying?")

    # Another scale: the widget draws 0-10 for NPS, and the labelled 5-point CES as labels.
    page.get_by_label("Metric").select_option("nps")
    points = preview(page).locator("[data-ces] [data-s]")
    expect(points).to_have_count(11)
    page.get_by_label("Metric").select_option("ces5")
    expect(points).to_have_count(5)
    expect(points.first).to_have_text("Very difficult")
    page.get_by_label("Metric").select_option("ces7")
    expect(points).to_have_count(7)

    # The follow-up, as a user with a low score sees it.
    page.locator("#f-texts-en-followup").fill("What slowed you down?")
    page.get_by_label("Ask the follow-up up to score").fill("4")
    page.get_by_role("button", name="Show the follow-up").click()
    expect(preview_question(page)).to_have_text("What slowed you down?")
    # The centre position: the widget's modal, drawn without taking the focus from the editor.
    page.get_by_label("Position").select_option("center")
    page.locator("#f-texts-en-thanks").press_sequentially("Merci!", delay=10)
    expect(preview(page).locator('[data-ces="c"] .q')).to_have_text("What slowed you down?")  # still the follow-up
    expect(page.locator("#f-texts-en-thanks")).to_be_focused()
    page.locator("#f-texts-en-thanks").fill("")
    page.get_by_label("Position").select_option("bottom-right")
    page.get_by_label("Theme").select_option("dark")
    page.get_by_role("button", name="Show the question").click()
    expect(preview(page).locator("[data-ces] .w")).to_have_class("w d")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "survey-editor")
    # On a phone the preview sits under the form: a picture of it where a phone shows it.
    page.set_viewport_size(PHONE)
    page.locator("#preview-frame").scroll_into_view_if_needed()
    expect(preview_question(page)).to_have_text("How easy was paying?")
    page.wait_for_timeout(300)  # the frame repaints after the resize (for the picture only)
    page.screenshot(path=str(SCREENSHOTS / "survey-editor-preview-phone.png"))
    page.set_viewport_size(DESKTOP)
    assert axe_violations(page) == []

    page.get_by_role("button", name="Create survey").click()
    expect(page.get_by_role("status").filter(has_text="saved")).to_be_visible()
    created = next(s for s in surveys(live_server) if s["name"] == "Checkout effort")
    assert created["metric"] == "ces7" and created["followup_max_score"] == 4
    assert created["texts"] == {"en": {"question": "How easy was paying?", "followup": "What slowed you down?"},
                                "fr": {"question": "Était-ce facile de payer ?"}}
    assert created["appearance"] == {"placement": "bottom-right", "theme": "dark"}
    # The list shows it, with its languages.
    page.get_by_role("link", name="All surveys").click()
    row = page.get_by_role("row").filter(has_text="Checkout effort")
    expect(row).to_contain_text("en, fr")
    screenshot(page, "surveys-list")
    assert axe_violations(page) == []


def test_a_validation_error_shows_next_to_its_field_and_nothing_is_saved(dash: Page, live_server) -> None:
    page = dash
    before = surveys(live_server)
    page.goto(site_url(live_server, f"/surveys/{live_server.survey_id}/edit"))
    page.get_by_label("Name").fill("Renamed")
    page.get_by_label("Ask the follow-up up to score").fill("9")   # the CES 2.0 scale is 1-7
    page.get_by_role("button", name="Save survey").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved.")
    score_error = page.locator('[data-error-for="followup_max_score"]')
    expect(score_error).to_have_text("Must be within the ces7 scale (1-7).")
    expect(page.get_by_label("Ask the follow-up up to score")).to_have_attribute("aria-invalid", "true")
    assert surveys(live_server) == before
    page.get_by_label("Ask the follow-up up to score").fill("")
    page.get_by_label("Prompts per day").fill("lots")
    page.get_by_role("button", name="Save survey").click()
    expect(page.locator('[data-error-for="quota.max_prompts_per_day"]')).to_have_text("Must be an integer (count) or null.")
    # What was typed stays in the form; nothing changed on the server.
    expect(page.get_by_label("Name")).to_have_value("Renamed")
    assert surveys(live_server) == before
    assert axe_violations(page) == []
    screenshot(page, "survey-editor-errors")


def test_survey_texts_with_html_are_text_everywhere(dash: Page, live_server) -> None:
    page = dash
    status, body = live_server.admin("POST", "/api/v1/surveys", {
        "name": XSS, "metric": "ces7", "texts": {"en": {"question": XSS, "low_label": "<b>low</b>"}}})
    assert status == 201, body
    page.goto(site_url(live_server, "/surveys"))
    expect(page.get_by_role("link", name=XSS, exact=True)).to_be_visible()
    page.goto(site_url(live_server, f"/surveys/{body['id']}/edit"))
    expect(page.locator("#f-texts-en-question")).to_have_value(XSS)
    expect(preview_question(page)).to_have_text(XSS)
    assert page.evaluate("() => window.__xss") is None
    assert preview(page).locator("img").count() == 0
