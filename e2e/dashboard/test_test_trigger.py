"""Test a trigger and A user, in Chromium against a live server: a dry run answers the engine's
decision and its reason ("this user is not in the sample") and records nothing; bad input is
refused next to its field; the user page lists the decision log newest first after real events,
with the prompts and answers; user ids and property values holding HTML show as text."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from playwright.sync_api import Page, expect

from ces.core.sampling import sampled_in
from dashboard_support import axe_violations, login, screenshot, site_url

XSS = '<img src=x onerror="window.__xss=1">'


def count(server: Any, table: str) -> int:
    return server.services.storage.one(f"select count(*) as n from {table}")["n"]


def user_outside_sample(server: Any, trigger_id: int, rate: float) -> str:
    key = server.site["site_key"]
    return next(f"user-{i}" for i in range(1000) if not sampled_in(rate, key, trigger_id, f"user-{i}"))


def test_dry_run_shows_the_decision_and_its_reason(dash: Page, live_server) -> None:
    page = dash
    status, trigger = live_server.admin("POST", "/api/v1/triggers", {
        "event_name": "plan_upgraded", "survey_id": live_server.survey_id, "sample_rate": 50, "name": "Half of upgrades"})
    assert status == 201
    user = user_outside_sample(live_server, trigger["id"], 50)
    events, prompts = count(live_server, "events"), count(live_server, "prompts")
    page.get_by_role("link", name="Test").click()
    expect(page.get_by_role("heading", name="Test a trigger")).to_be_visible()
    page.get_by_label("User id").fill(user)
    page.get_by_label("Event name").fill("plan_upgraded")
    page.get_by_label("Properties (JSON object)").fill('{"plan": "pro"}')
    page.get_by_role("button", name="Run a dry run").click()
    expect(page.locator("#headline")).to_have_text("Would not be asked: the user is not in the trigger's sample.")
    expect(page.locator("#detail")).to_have_text(
        f"trigger {trigger['id']} samples 50% of users; this user is not in the sample")
    expect(page.locator("#result")).to_contain_text("Half of upgrades")
    assert (count(live_server, "events"), count(live_server, "prompts")) == (events, prompts)
    screenshot(page, "test-trigger")
    assert axe_violations(page) == []

    # A user inside the sample would be asked, by this trigger, for this survey.
    inside = next(f"user-{i}" for i in range(1000)
                  if sampled_in(50, live_server.site["site_key"], trigger["id"], f"user-{i}"))
    page.get_by_label("User id").fill(inside)
    page.get_by_role("button", name="Run a dry run").click()
    expect(page.locator("#headline")).to_have_text("Would be asked: a trigger matched and every check passed.")
    expect(page.locator("#result")).to_have_class("card result outcome-prompt")
    assert count(live_server, "prompts") == prompts


def test_bad_input_is_refused_next_to_its_field(dash: Page, live_server) -> None:
    page = dash
    page.goto(site_url(live_server, "/test"))
    page.get_by_label("User id").fill("alice")
    page.get_by_label("Event name").fill("checkout_completed")
    page.get_by_label("Properties (JSON object)").fill('{"amount": 80,}')
    page.get_by_role("button", name="Run a dry run").click()
    expect(page.locator('[data-error-for="properties"]')).to_contain_text("Not valid JSON")
    expect(page.get_by_label("Properties (JSON object)")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Properties (JSON object)").fill("[1, 2]")
    page.get_by_label("User id").fill("")
    page.get_by_role("button", name="Run a dry run").click()
    expect(page.locator('[data-error-for="properties"]')).to_have_text("Must be a JSON object.")
    expect(page.locator('[data-error-for="user_id"]')).to_have_text("Length must be between 1 and 256.")
    expect(page.locator("#headline")).to_have_count(0)
    assert axe_violations(page) == []


def test_user_page_shows_the_decision_log_prompts_and_answers(dash: Page, live_server) -> None:
    page = dash
    user = "ann@example.com"
    ws = live_server.ws(user)
    assert live_server.post_events({"name": "checkout_completed", "user_id": user,
                                    "properties": {"note": XSS}})[0] == 200
    prompt = ws.expect("prompt")["prompt"]["id"]
    ws.send({"type": "shown", "prompt": prompt, "id": "s1"})
    ws.expect("ack")
    ws.send({"type": "answer", "prompt": prompt, "score": 6, "id": "a1", "comment": "Smooth <b>enough</b>"})
    ws.expect("ack")
    live_server.clock.advance(60)
    live_server.post_events({"name": "ticket_closed", "user_id": user})   # the recontact wait says no
    live_server.clock.advance(60)
    live_server.post_events({"name": "nobody_listens", "user_id": user})

    page.goto(site_url(live_server, "/test"))
    page.get_by_label("Find a user by id").fill(user)
    page.get_by_role("button", name="Show the user").click()
    expect(page).to_have_url(site_url(live_server, f"/users/{quote(user, safe='@')}"))
    rows = page.locator("#decisions tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("nobody_listens")
    expect(rows.nth(0)).to_contain_text("no active trigger listens to this event")
    expect(rows.nth(1)).to_contain_text("ticket_closed")
    expect(rows.nth(1)).to_contain_text("the user was contacted too recently (recontact wait)")
    expect(rows.nth(1)).to_contain_text("not asked")
    expect(rows.nth(2)).to_contain_text("checkout_completed")
    expect(rows.nth(2)).to_contain_text("asked")
    expect(rows.nth(2).locator(".props")).to_have_text('{"note": "' + XSS.replace('"', '\\"') + '"}')
    prompts = page.locator("#prompts tbody tr")
    expect(prompts).to_have_count(1)
    expect(prompts.nth(0)).to_contain_text("answered")
    expect(prompts.nth(0).locator(".comment")).to_have_text("Smooth <b>enough</b>")
    assert page.evaluate("() => window.__xss") is None
    screenshot(page, "user")
    assert axe_violations(page) == []


def test_user_ids_with_html_and_slashes_are_text(dash: Page, live_server) -> None:
    page = dash
    user = f"a/b {XSS}"
    live_server.post_events({"name": "checkout_completed", "user_id": user})
    page.goto(site_url(live_server, "/test"))
    page.get_by_label("Find a user by id").fill(user)
    page.get_by_role("button", name="Show the user").click()
    expect(page.locator("#user-id")).to_have_text(user)
    expect(page.locator("#decisions tbody tr")).to_have_count(1)
    assert page.evaluate("() => window.__xss") is None
    page.goto(site_url(live_server, "/users/nobody-here"))
    expect(page.get_by_text("Nothing is stored about this user on this site")).to_be_visible()


def test_a_read_only_account_may_run_a_dry_run_and_see_the_preview(live_server, page: Page) -> None:
    from ces.storage.tokens import TokenStore
    token = TokenStore(live_server.services.storage).create("viewer", live_server.clock(), read_only=True)[1]
    login(page, live_server, token=token)
    page.goto(site_url(live_server, "/test"))
    page.get_by_label("User id").fill("viewer-check")
    page.get_by_label("Event name").fill("checkout_completed")
    page.get_by_role("button", name="Run a dry run").click()
    expect(page.locator("#headline")).to_have_text("Would be asked: a trigger matched and every check passed.")
    assert count(live_server, "prompts") == 0
    page.goto(site_url(live_server, f"/surveys/{live_server.survey_id}/edit"))
    expect(page.frame_locator("#preview-frame").locator("[data-ces] .q")).to_be_visible()
    page.get_by_label("Name").fill("Changed by a viewer")
    page.get_by_role("button", name="Save survey").click()
    expect(page.get_by_text("This account is read-only: it can look")).to_be_visible()  # the refusal, not the banner
    assert live_server.services.storage.get_survey(live_server.survey_id)["name"] != "Changed by a viewer"
