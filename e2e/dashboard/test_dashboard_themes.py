"""The Themes page, in Chromium against a live server (both engines): a team renames a starter
theme and adds a term, merges one theme into another and undoes it, turns one off and on, adds
a theme of its own and deletes it — each checked through the API and on the Insights page's
themes; a bad term and a taken key are refused next to their field with nothing changed; a
read-only account sees the themes and no form."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from ces.storage.tokens import TokenStore
from dashboard_support import axe_violations, login, screenshot, seed_answers, site_url


def themes(server: Any) -> dict[str, Any]:
    status, body = server.admin("GET", f"/api/v1/sites/{server.site['id']}/themes")
    assert status == 200
    return body


def by_key(server: Any) -> dict[str, dict[str, Any]]:
    return {t["key"]: t for t in themes(server)["themes"]}


def report_themes(server: Any) -> dict[str, dict[str, Any]]:
    status, body = server.admin("GET", f"/api/v1/surveys/{server.survey_id}/themes")
    assert status == 200
    return {t["key"]: t for t in body["themes"]}


def card(page: Page, key: str) -> Any:
    return page.locator(f"#theme-{key}")


def change(page: Page, key: str) -> Any:
    """The card of theme `key` with its forms opened ("Change")."""
    found = card(page, key)
    found.locator("details.edit > summary").click()
    return found


def test_rename_extend_merge_and_undo_from_the_page(dash: Page, live_server) -> None:
    page = dash
    seed_answers(live_server, [1, 2, 6], ["The parcel came two weeks late", "Sizes run small, the colis was late",
                                          "Stuck in the queue for ages"])
    page.get_by_role("link", name="Themes").click()
    expect(page.get_by_role("heading", name="Themes", exact=True)).to_be_visible()
    expect(card(page, "delivery").get_by_role("heading")).to_have_text("Delivery")
    assert axe_violations(page) == []
    delivery = change(page, "delivery")

    # Rename the starter theme and teach it a word of this shop.
    delivery.get_by_label("Label").fill("Shipping <b>times</b>")
    delivery.get_by_label("Added terms").fill("sizes run small")
    delivery.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("saved")
    expect(card(page, "delivery").get_by_role("heading")).to_have_text("Shipping <b>times</b>")  # text, not markup
    saved = by_key(live_server)["delivery"]
    assert saved["label"] == "Shipping <b>times</b>" and saved["added_terms"] == ["sizes run small"]
    assert report_themes(live_server)["delivery"]["label"] == "Shipping <b>times</b>"

    # Merge waiting into it: the Insights page counts the queue comment there; then undo.
    waiting = change(page, "waiting")
    waiting.get_by_label("Merge into").select_option("delivery")
    waiting.get_by_role("button", name="Merge").click()
    expect(page.get_by_role("status")).to_contain_text("Merged waiting into delivery")
    assert "waiting" not in by_key(live_server)
    assert by_key(live_server)["delivery"]["merged_from"] == ["waiting"]
    assert report_themes(live_server)["delivery"]["comments"] == 3
    expect(card(page, "delivery")).to_contain_text("is merged into this theme")
    screenshot(page, "themes")
    card(page, "delivery").get_by_role("button", name="Undo the merge of Waiting").click()
    expect(page.get_by_role("status")).to_contain_text("waiting is its own theme again")
    assert by_key(live_server)["waiting"]["merged_from"] == [] and by_key(live_server)["delivery"]["merged_from"] == []
    assert report_themes(live_server)["delivery"]["comments"] == 2

    # Off, then on again from the "Turned off" list; then reset to how it ships.
    price = change(page, "price")
    price.get_by_label("On").uncheck()
    price.get_by_role("button", name="Save").click()
    expect(page.locator("#off-themes")).to_contain_text("Price")
    assert "price" in themes(live_server)["off"]
    page.get_by_role("button", name="Turn Price on").click()
    assert "price" not in themes(live_server)["off"] and "price" in by_key(live_server)
    change(page, "delivery").get_by_role("button", name="Reset to how it ships").click()
    expect(card(page, "delivery").get_by_role("heading")).to_have_text("Delivery")
    assert by_key(live_server)["delivery"]["added_terms"] == []
    assert axe_violations(page) == []


def test_a_theme_of_the_sites_own_is_added_and_deleted(dash: Page, live_server) -> None:
    page = dash
    page.goto(site_url(live_server, "/themes"))
    add = page.locator("#add-theme")
    add.get_by_label("Key").fill("sizes")
    add.get_by_label("Label").fill("Sizes and fit")
    add.get_by_label("Terms").fill("too small, taille\nmărime")
    add.get_by_role("button", name="Add the theme").click()
    expect(page.get_by_role("status")).to_contain_text("Theme Sizes and fit saved")
    mine = by_key(live_server)["sizes"]
    assert mine["kind"] == "custom" and mine["label"] == "Sizes and fit"
    assert sorted(mine["terms"]) == ["marime", "taille", "too small"]  # folded as the comments are
    expect(card(page, "sizes").get_by_role("heading")).to_have_text("Sizes and fit")
    change(page, "sizes").get_by_role("button", name="Delete this theme").click()
    expect(page.get_by_role("status")).to_contain_text("Theme sizes deleted")
    assert "sizes" not in by_key(live_server)


def test_refusals_show_next_to_their_field_and_change_nothing(dash: Page, live_server) -> None:
    page = dash
    before = themes(live_server)
    page.goto(site_url(live_server, "/themes"))
    delivery = change(page, "delivery")
    delivery.get_by_label("Added terms").fill("ok term, a*")
    delivery.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved.")
    expect(page.locator('[data-error-for="delivery.terms"]')).to_contain_text("at least 3 letters")
    expect(page.locator("#f-delivery-terms")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-delivery-terms")).to_have_value("ok term, a*")  # as typed
    assert themes(live_server) == before

    add = page.locator("#add-theme")
    add.get_by_label("Key").fill("waiting")
    add.get_by_label("Label").fill("Queues")
    add.get_by_label("Terms").fill("queue")
    add.get_by_role("button", name="Add the theme").click()
    expect(page.locator('[data-error-for="new.key"]')).to_contain_text("A starter theme has this key")
    page.locator("#add-theme").get_by_label("Key").fill("Bad Key!")
    page.locator("#add-theme").get_by_role("button", name="Add the theme").click()
    expect(page.locator('[data-error-for="new.key"]')).to_contain_text("lower-case letters")
    page.locator("#add-theme").get_by_label("Key").fill("queues")
    page.locator("#add-theme").get_by_label("Terms").fill("")
    page.locator("#add-theme").get_by_role("button", name="Add the theme").click()
    expect(page.locator('[data-error-for="new.terms"]')).to_contain_text("needs at least one term")
    change(page, "waiting").get_by_role("button", name="Merge").click()  # no target chosen
    expect(page.locator('[data-error-for="waiting.into"]')).to_have_text("Choose the theme to merge it into.")
    assert themes(live_server) == before
    expect(card(page, "waiting").locator("details.edit")).to_have_attribute("open", "")  # the refused form stays open
    screenshot(page, "themes-errors")
    assert axe_violations(page) == []


def test_a_read_only_account_sees_the_themes_and_no_form(page: Page, live_server) -> None:
    _, token = TokenStore(live_server.services.storage).create("viewer", live_server.clock(), read_only=True)
    login(page, live_server, token)
    page.goto(site_url(live_server, "/themes"))
    expect(card(page, "delivery").get_by_role("heading")).to_have_text("Delivery")
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    expect(page.locator("details.edit")).to_have_count(0)
    expect(page.locator("#add-theme")).to_have_count(0)
    assert axe_violations(page) == []
