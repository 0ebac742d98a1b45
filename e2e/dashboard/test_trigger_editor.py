"""The Triggers list and the Trigger editor, in Chromium against a live server: create a trigger
with conditions, a variant split, a delay and occurrences through the form and check it through
the API; edit it; a validation error shows next to its field (a condition's value, the variants'
weights) and nothing is saved; axe-core clean; screenshots."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from dashboard_support import axe_violations, screenshot, site_url


def triggers(server: Any) -> list[dict[str, Any]]:
    status, body = server.admin("GET", "/api/v1/triggers")
    assert status == 200
    return body["items"]


def second_survey(server: Any) -> int:
    status, body = server.admin("POST", "/api/v1/surveys", {"name": "CSAT after payment", "metric": "csat5"})
    assert status == 201
    return body["id"]


def test_create_a_trigger_through_the_form(dash: Page, live_server) -> None:
    page = dash
    csat = second_survey(live_server)
    page.get_by_role("link", name="Triggers").click()
    expect(page.get_by_role("heading", name="Triggers")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="checkout_completed")).to_be_visible()
    page.get_by_role("link", name="New trigger").click()
    page.get_by_label("Event name").fill("payment_succeeded")
    page.get_by_label("Accept events from").select_option("any")
    rows = page.locator("#cond-rows .row")
    rows.nth(0).get_by_label("Name").fill("amount")
    rows.nth(0).get_by_label("Operator").select_option("gte")
    rows.nth(0).get_by_label("Value").fill("50")
    page.get_by_role("button", name="Add a condition").click()
    expect(rows).to_have_count(2)
    rows.nth(1).get_by_label("Of the").select_option("traits")
    rows.nth(1).get_by_label("Name").fill("plan")
    rows.nth(1).get_by_label("Operator").select_option("in")
    rows.nth(1).get_by_label("Value").fill("pro, team")
    page.get_by_label("Match").select_option("all")
    page.get_by_label("Sample, % of users").fill("50")
    page.get_by_role("button", name="Add a variant").click()
    page.get_by_role("button", name="Add a variant").click()
    variants = page.locator("#var-rows .row")
    variants.nth(0).get_by_label("Survey").select_option(str(live_server.survey_id))
    variants.nth(0).get_by_label("Weight %").fill("70")
    variants.nth(0).get_by_label("Label").fill("ces")
    variants.nth(1).get_by_label("Survey").select_option(str(csat))
    variants.nth(1).get_by_label("Weight %").fill("30")
    page.locator("#f-delay_seconds").fill("10")
    page.get_by_label("Delay before asking: unit").select_option("minutes")
    page.locator("#f-ttl_seconds").fill("2")
    page.get_by_label("Expires after: unit").select_option("days")
    page.get_by_label("Priority").fill("5")
    page.get_by_label("Transaction key").fill("order_id")
    page.get_by_role("button", name="Add an occurrence condition").click()
    occ = page.locator("#occ-rows .row").nth(0)
    occ.get_by_label("When").select_option("at_least")
    occ.get_by_label("Event (at least)").fill("login")
    occ.get_by_label("N", exact=True).fill("3")
    occ.get_by_label("Within days").fill("7")
    page.get_by_label("Cancel events").fill("payment_refunded")
    page.locator("#f-name").fill("Ask after a big payment")
    screenshot(page, "trigger-editor")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Create trigger").click()
    expect(page.get_by_role("status").filter(has_text="saved")).to_be_visible()

    created = next(t for t in triggers(live_server) if t["event_name"] == "payment_succeeded")
    assert created["name"] == "Ask after a big payment" and created["source"] == "any"
    assert created["conditions"] == {"all": [{"field": "properties.amount", "op": "gte", "value": 50},
                                             {"field": "traits.plan", "op": "in", "value": ["pro", "team"]}]}
    assert created["sample_rate"] == 50 and created["priority"] == 5 and created["transaction_key"] == "order_id"
    assert created["variants"] == [{"survey_id": live_server.survey_id, "weight": 70, "label": "ces"},
                                   {"survey_id": csat, "weight": 30}]
    assert created["delay_seconds"] == 600 and created["ttl_seconds"] == 2 * 86400
    assert created["occurrences"] == [{"event": "login", "at_least": 3, "within_days": 7}]
    assert created["cancel_events"] == ["payment_refunded"] and created["status"] == "active"

    # The saved trigger comes back into the same form; pausing it is one tick.
    expect(page.locator("#cond-rows .row").nth(1).get_by_label("Value")).to_have_value("pro, team")
    expect(page.locator("#f-delay_seconds")).to_have_value("10")
    page.get_by_label("Paused — this trigger asks nobody while paused").check()
    page.get_by_role("button", name="Save trigger").click()
    expect(page.get_by_role("status").filter(has_text="saved")).to_be_visible()
    again = next(t for t in triggers(live_server) if t["id"] == created["id"])
    assert again["status"] == "paused" and again["conditions"] == created["conditions"]
    page.get_by_role("link", name="All triggers").click()
    expect(page.get_by_role("row").filter(has_text="Ask after a big payment")).to_contain_text("paused")
    screenshot(page, "triggers-list")
    assert axe_violations(page) == []


def test_validation_errors_show_next_to_their_fields_and_nothing_is_saved(dash: Page, live_server) -> None:
    page = dash
    csat = second_survey(live_server)
    before = triggers(live_server)
    page.goto(site_url(live_server, "/triggers/new"))
    page.get_by_label("Event name").fill("payment_succeeded")
    row = page.locator("#cond-rows .row").nth(0)
    row.get_by_label("Name").fill("amount")
    row.get_by_label("Operator").select_option("gt")
    row.get_by_label("Value").fill("lots")                      # gt needs a number
    page.get_by_role("button", name="Create trigger").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved.")
    error = page.locator('[data-error-for="cond.0.value"]')
    expect(error).to_have_text("Operator 'gt' needs a number.")
    expect(page.locator("#cond-rows .row").nth(0).get_by_label("Value")).to_have_attribute("aria-invalid", "true")
    assert triggers(live_server) == before
    screenshot(page, "trigger-editor-errors")
    assert axe_violations(page) == []

    # Fixed, and now the variants' weights do not sum to 100: the message sits by the variants.
    page.locator("#cond-rows .row").nth(0).get_by_label("Value").fill("50")
    page.get_by_role("button", name="Add a variant").click()
    variant = page.locator("#var-rows .row").nth(0)
    variant.get_by_label("Survey").select_option(str(csat))
    variant.get_by_label("Weight %").fill("60")
    page.get_by_label("Sample, % of users").fill("150")
    page.get_by_role("button", name="Create trigger").click()
    expect(page.locator('[data-error-for="sample_rate"]')).to_have_text("Must be greater than or equal to 0 and less than or equal to 100.")
    expect(page.locator('[data-error-for="variants"]')).to_have_text("Variant weights must sum to 100.")
    assert triggers(live_server) == before
