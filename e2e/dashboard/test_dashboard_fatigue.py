"""The Fatigue page, in Chromium against a live server: the policy form saves (checked through
the API), a validation error shows next to its field with nothing saved, and the diagnostic
counts a planted collision (two surveys, within an hour, for two of three users)."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from dashboard_support import axe_violations, screenshot, site_url


def policy(server: Any) -> dict[str, Any]:
    status, body = server.admin("GET", f"/api/v1/sites/{server.site['id']}/fatigue")
    assert status == 200
    return body


def test_policy_form_saves(dash: Page, live_server) -> None:
    page = dash
    page.get_by_role("link", name="Fatigue").click()
    expect(page.get_by_role("heading", name="Fatigue")).to_be_visible()
    expect(page.locator("#f-recontact_wait")).to_have_value("30")
    expect(page.get_by_label("After any survey: unit")).to_have_value("days")
    page.locator("#f-type_wait").fill("14")
    page.locator("#f-survey_wait").fill("")
    page.locator("#f-max_prompts").fill("2")
    page.locator("#f-max_prompts_window").fill("30")
    page.locator("#f-min_visit_seconds").fill("10")
    page.get_by_label("Not in the first … of a visit: unit").select_option("seconds")
    page.get_by_label("Prompts that expired without being shown").check()
    page.get_by_role("button", name="Save the policy").click()
    expect(page.get_by_role("status").filter(has_text="saved")).to_be_visible()
    saved = policy(live_server)
    assert saved["type_wait"] == 14 * 86400 and saved["survey_wait"] is None
    assert saved["max_prompts"] == 2 and saved["max_prompts_window"] == 30 * 86400
    assert saved["min_visit_seconds"] == 10 and saved["count_expired"] is True and saved["one_open"] is True
    expect(page.locator("#f-type_wait")).to_have_value("14")
    assert axe_violations(page) == []


def test_validation_error_shows_next_to_its_field_and_nothing_is_saved(dash: Page, live_server) -> None:
    page = dash
    before = policy(live_server)
    page.goto(site_url(live_server, "/fatigue"))
    page.locator("#f-max_prompts_window").fill("")     # a cap needs its window
    page.locator("#f-recontact_wait").fill("-3")
    page.get_by_role("button", name="Save the policy").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved.")
    expect(page.locator('[data-error-for="max_prompts_window"]')).to_have_text("Required when max_prompts is set.")
    expect(page.locator('[data-error-for="recontact_wait"]')).to_contain_text("Must be between 0 and")
    expect(page.locator("#f-recontact_wait")).to_have_attribute("aria-invalid", "true")
    assert policy(live_server) == before
    screenshot(page, "fatigue-errors")
    assert axe_violations(page) == []


def test_diagnostic_counts_a_planted_collision(dash: Page, live_server) -> None:
    page = dash
    site = live_server.site["id"]
    assert live_server.admin("PUT", f"/api/v1/sites/{site}/fatigue", {
        "recontact_wait": None, "survey_wait": None, "one_open": False, "max_prompts": None})[0] == 200
    status, nps = live_server.admin("POST", "/api/v1/surveys", {"name": "NPS <script>x</script>", "metric": "nps"})
    assert status == 201
    assert live_server.admin("POST", "/api/v1/triggers", {"event_name": "plan_upgraded", "survey_id": nps["id"]})[0] == 201
    for user in ("u1", "u2", "u3"):
        live_server.post_events({"name": "checkout_completed", "user_id": user})
    live_server.clock.advance(3600)
    for user in ("u1", "u2"):
        live_server.post_events({"name": "plan_upgraded", "user_id": user})
    page.goto(site_url(live_server, "/fatigue"))
    expect(page.locator("#users-prompted")).to_have_text("3")
    expect(page.locator("#users-colliding")).to_have_text("2")
    expect(page.locator("#diagnostic")).to_contain_text("66.7 % of the users prompted")
    pair = page.locator("#pairs tbody tr")
    expect(pair).to_have_count(1)
    first = live_server.services.storage.get_survey(live_server.survey_id)["name"]
    expect(pair.nth(0).locator("td").nth(0)).to_have_text(first)
    expect(pair.nth(0).locator("td").nth(1)).to_have_text("NPS <script>x</script>")
    expect(pair.nth(0).locator("td").nth(2)).to_have_text("2")
    # The same numbers as the API's.
    api = live_server.admin("GET", f"/api/v1/sites/{site}/fatigue/diagnostic")[1]
    assert (api["users_prompted"], api["users_colliding"]) == (3, 2)
    screenshot(page, "fatigue")
    assert axe_violations(page) == []
    # A window shorter than the hour between them: no collision; a bad window is refused by its field.
    page.get_by_label("Within hours").fill("1")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#users-colliding")).to_have_text("0")
    page.get_by_label("Within hours").fill("0")
    page.get_by_role("button", name="Show").click()
    expect(page.locator('[data-error-for="window_hours"]')).to_be_visible()
