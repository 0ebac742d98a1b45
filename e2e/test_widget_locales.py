"""French and Romanian texts (survey and built-in); survey texts are text, never HTML."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from test_widget_support import HOST, ask, console_warnings, create_survey, open_shop, shop

CASES = {
    "fr": {"question": "L'entreprise m'a facilité la gestion de ma demande.", "close": "Fermer",
           "followup": "Qu'aurions-nous pu faire pour vous faciliter la tâche ?", "send": "Envoyer",
           "skip": "Passer", "thanks": "Merci\u00a0!", "low": "1, Pas du tout d'accord"},
    "ro": {"question": "Compania mi-a ușurat rezolvarea problemei.", "close": "Închide",
           "followup": "Ce am fi putut face ca să vă fie mai ușor?", "send": "Trimite",
           "skip": "Omite", "thanks": "Mulțumim!", "low": "1, Dezacord total"},
}


@pytest.mark.parametrize("locale", list(CASES))
def test_texts_in_the_locale(live_server, shop, page: Page, locale: str) -> None:
    want = CASES[locale]
    sent: list[dict] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(json.loads(f))))
    ask(live_server, f"user-{locale}")
    open_shop(page, live_server, shop, user=f"user-{locale}", locale=locale)
    widget = page.locator(HOST)
    expect(page.get_by_role("radiogroup", name=want["question"])).to_be_visible()
    expect(widget.get_by_role("button", name=want["close"])).to_be_visible()
    expect(widget.get_by_role("radio", name=want["low"])).to_be_visible()
    assert widget.locator("section, dialog").get_attribute("lang") == locale
    assert sent[0]["type"] == "hello" and sent[0]["locale"] == locale
    widget.get_by_role("radio", name="3", exact=True).click()
    expect(widget.get_by_role("textbox", name=want["followup"])).to_be_visible()
    expect(widget.get_by_role("button", name=want["send"])).to_be_visible()
    widget.get_by_role("button", name=want["skip"]).click()
    expect(widget.get_by_text(want["thanks"])).to_be_visible()


def test_locale_from_identify_traits_then_navigator(live_server, shop, page: Page) -> None:
    sent: list[dict] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(json.loads(f))))
    open_shop(page, live_server, shop, before="<script>window.ces=window.ces||function(){(ces.q=ces.q||[]).push("
              "arguments)};ces('identify','trait-user',{locale:'ro'})</script>")
    page.wait_for_function("window.ces && window.ces.l")
    page.wait_for_timeout(300)
    hello = [m for m in sent if m["type"] == "hello"][0]
    assert (hello["user"], hello["locale"], hello["anonymous"]) == ("trait-user", "ro", False)


def test_html_in_survey_texts_is_shown_as_text(live_server, shop, page: Page) -> None:
    evil = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script><b>bold</b>'
    create_survey(live_server, "ces7", "ask_evil", texts={"en": {
        "question": evil, "low_label": "<i>low</i>", "high_label": "&amp; high", "followup": evil}},
        followup_max_score=7)
    ask(live_server, "evil", "ask_evil")
    warnings = console_warnings(page)
    open_shop(page, live_server, shop, user="evil")
    widget = page.locator(HOST)
    expect(widget.get_by_text(evil)).to_be_visible()
    expect(widget.get_by_text("<i>low</i>")).to_be_visible()
    expect(widget.get_by_text("&amp; high")).to_be_visible()
    assert widget.locator("img, script, b, i").count() == 0
    widget.get_by_role("radio", name="5", exact=True).click()
    expect(widget.get_by_role("textbox", name=evil)).to_be_visible()
    assert widget.locator("img, script, b, i").count() == 0
    assert page.evaluate("window.pwned") is None
    assert warnings == []
