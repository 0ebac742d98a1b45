"""The Insights page of a survey (issue 15 in the dashboard): themes, customers with the same
problem, what drives effort, fix first, scores that diverge and loyalty — its numbers checked
against the admin API's JSON for the same survey and period, in a real Chromium on a real server."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from dashboard_support import axe_violations, login, screenshot, site_url
from results_seed import seed_weeks

XSS_COMMENT = '<img src=x onerror="document.body.dataset.pwned=1"> the delivery was late, parcel never arrived'
XSS_NAME = '<script>document.body.dataset.pwned=2</script>Mallory'
DAY = 86400


def insights_path(server: Any, query: str = "", survey_id: int | None = None) -> str:
    return site_url(server, f"/surveys/{survey_id or server.survey_id}/insights") + query


def api(server: Any, what: str, query: str = "", survey_id: int | None = None) -> dict[str, Any]:
    status, body = server.admin("GET", f"/api/v1/surveys/{survey_id or server.survey_id}/{what}{query}")
    assert status == 200, body
    return body


def identify(server: Any, user: str, traits: dict[str, Any]) -> None:
    from ces.testing import http
    status, body = http("POST", f"{server.url}/api/v1/identify", {"user_id": user, "traits": traits},
                        server.site["secret_key"])
    assert status == 200, body


def add_answer(server: Any, survey_id: int, user: str, score: int, at: float, comment: str | None = None,
               tag: str = "x") -> None:
    """One answered prompt written into the real database (as results_seed does)."""
    storage = server.services.storage
    pid = f"p_ins_{tag}_{user}_{survey_id}"
    with storage.write() as db:
        db.execute("insert into prompts (id, site_id, user_id, survey_id, trigger_id, status, locale, created_at, "
                   "deliver_after, expires_at, delivered_at, shown_at, closed_at) values (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   [pid, server.site["id"], user, survey_id, None, "answered", "en", at, at, at + DAY, at, at, at + 5])
        db.execute("insert into answers (prompt_id, site_id, survey_id, user_id, score, comment, created_at) "
                   "values (?,?,?,?,?,?,?)", [pid, server.site["id"], survey_id, user, score, comment, at + 5])


@pytest.fixture
def seeded(live_server: Any) -> dict[str, Any]:
    written = seed_weeks(live_server)
    now = live_server.clock()
    add_answer(live_server, live_server.survey_id, "mallory", 1, now - 7200, XSS_COMMENT)
    identify(live_server, "mallory", {"name": XSS_NAME, "email": "mallory@example.com"})
    # Contact traits for three customers in four.
    for i, user in enumerate(written["users"]):
        if i % 4 != 3:
            identify(live_server, user, {"email": f"{user}@example.com", "first_name": f"Name{i}", "last_name": "Doe"})
    return written


def period(server: Any, days_back: int = 21) -> tuple[str, str]:
    today = datetime.fromtimestamp(server.clock(), timezone.utc).date()
    return (today - timedelta(days=days_back)).isoformat(), today.isoformat()


def themes_shown(page: Page) -> dict[str, tuple[str, str]]:
    return {row.get_attribute("data-theme"): (row.locator("[data-comments]").inner_text(),
                                              row.locator("[data-high-share]").inner_text())
            for row in page.locator("#theme-rows tbody tr[data-theme]").all()}


def check_against_api(page: Page, server: Any, query: str) -> dict[str, Any]:
    """The themes' counts and high-effort shares, the top driver and the first fix-first item equal the API's."""
    themes = api(server, "themes", query)
    assert themes["themes"], "the seed has themed comments"
    want = {t["key"]: (f"{t['comments']:,}".replace(",", "\u202f"), f"{t['high_effort_share']['share']:.1f} %")
            for t in themes["themes"]}
    assert themes_shown(page) == want
    order = [row.get_attribute("data-theme") for row in page.locator("#theme-rows tbody tr[data-theme]").all()]
    assert order == [t["key"] for t in themes["themes"]]
    drivers = api(server, "drivers", query)
    top = drivers["properties"][0]
    first = page.locator("#driver-list > li").first
    assert first.get_attribute("data-key") == top["key"] and first.get_attribute("data-source") == top["source"]
    effect = top["most_effort"] or top["effect"]
    expect(first.locator(".driver-value")).to_have_text(str(effect["value"]))
    expect(first.locator(".driver-diff")).to_have_text(f"{effect['difference']:+.1f} pts")
    fix = api(server, "fix-first", query)
    item = fix["items"][0]
    shown = page.locator("#fix-list > li").first
    expect(shown.locator(".fix-impact")).to_have_text(f"{item['impact']:.1f}")
    if item["key"]:
        expect(shown.locator(".fix-what")).to_contain_text(f"{item['key']} = {item['value']}")
    expect(page.locator("#fix-list > li")).to_have_count(min(10, len(fix["items"])))
    return {"themes": themes, "drivers": drivers, "fix": fix}


def test_numbers_match_the_api_for_all_time_and_for_a_period(dash: Page, live_server: Any, seeded: dict) -> None:
    dash.set_viewport_size({"width": 1280, "height": 800})
    dash.goto(site_url(live_server, f"/surveys/{live_server.survey_id}"))
    dash.locator("#insights-link").click()
    expect(dash).to_have_url(insights_path(live_server))
    expect(dash.get_by_role("heading", name="Themes of the comments")).to_be_visible()
    got = check_against_api(dash, live_server, "")
    assert got["drivers"]["properties"][0]["key"] == "transfers"  # the seed's planted driver
    # Representative comments are shown under their theme.
    first = got["themes"]["themes"][0]
    quotes = dash.locator(f"#theme-rows tr[data-theme='{first['key']}'] + tr.quotes li q")
    expect(quotes).to_have_count(len(first["representative"]))
    # One survey on the site: the comparison says how to get one.
    expect(dash.locator("#no-other")).to_be_visible()
    assert axe_violations(dash) == []
    screenshot(dash, "insights")
    # A period in the URL: every section follows it, as the API does for the same query.
    start, end = period(live_server)
    dash.get_by_label("From").fill(start)
    dash.get_by_label("To (inclusive)").fill(end)
    dash.get_by_role("button", name="Apply").click()
    expect(dash).to_have_url(re.compile(rf"from={start}&to={end}"))
    check_against_api(dash, live_server, f"?from={start}&to={end}")
    # The tab back to the results keeps the period.
    dash.get_by_role("navigation", name="Survey pages").get_by_role("link", name="Results").click()
    expect(dash).to_have_url(re.compile(rf"/surveys/{live_server.survey_id}\?from={start}&to={end}$"))


def test_customers_of_a_theme_mark_contacted_and_export(dash: Page, live_server: Any, seeded: dict) -> None:
    themes = api(live_server, "themes")
    theme = next(t for t in themes["themes"] if t["high_effort"] >= 2)
    dash.goto(insights_path(live_server))
    dash.get_by_role("link", name=f"Customers with {theme['label']}").click()
    expect(dash).to_have_url(re.compile(rf"theme={theme['key']}"))
    listed = api(live_server, "customers", f"?theme={theme['key']}&page_size=10")
    expect(dash.locator("#customers-total")).to_have_text(f"({listed['total']})")
    rows = dash.locator("#customer-rows tbody tr")
    expect(rows).to_have_count(len(listed["customers"]))
    assert [r.get_attribute("data-user") for r in rows.all()] == [c["user_id"] for c in listed["customers"]]
    named = next(c for c in listed["customers"] if c["email"])
    row = dash.locator(f"#customer-rows tr[data-user='{named['user_id']}']")
    expect(row.locator(".cust-email")).to_have_text(named["email"])
    expect(row.locator(".cust-name")).to_have_text(named["name"])
    # Mark one contacted: persisted (API, audit) and shown after a reload.
    row.get_by_role("button", name=re.compile("Mark contacted")).click()
    expect(dash).to_have_url(re.compile(rf"theme={theme['key']}.*#customers$"))
    dash.reload()
    row = dash.locator(f"#customer-rows tr[data-user='{named['user_id']}']")
    expect(row.locator(".contacted")).to_be_visible()
    after = api(live_server, "customers", f"?theme={theme['key']}&page_size=200")
    done = [c["user_id"] for c in after["customers"] if c["contacted"]]
    assert done == [named["user_id"]]
    audit = live_server.services.storage.all("select actor_kind, target from audit_log where action = 'customers.contacted'")
    assert audit == [{"actor_kind": "token", "target": f"survey:{live_server.survey_id}"}]
    # "Still to contact" leaves them out; the at-risk list shares the mark.
    dash.get_by_label("Show").select_option("false")
    dash.get_by_role("button", name="Show customers").click()
    expect(dash.locator(f"#customer-rows tr[data-user='{named['user_id']}']")).to_have_count(0)
    at_risk = api(live_server, "at-risk", "?followed_up=true&page_size=200")
    assert named["user_id"] in [u["user_id"] for u in at_risk["users"]]
    # The CSV is the API's export of the same list.
    with dash.expect_download() as info:
        dash.locator("#customers-csv").click()
    got = list(csv.reader(io.StringIO(open(info.value.path(), encoding="utf-8").read())))
    want = _api_csv(live_server, f"?theme={theme['key']}&followed_up=false")
    assert got == want and got[0][:3] == ["user_id", "email", "name"]
    # Undo it. Each click navigates: wait for it before the next step (a reload racing the form's own
    # navigation detached the page once in CI).
    dash.get_by_label("Show").select_option("true")
    with dash.expect_navigation():
        dash.get_by_role("button", name="Show customers").click()
    with dash.expect_navigation():
        dash.locator(f"#customer-rows tr[data-user='{named['user_id']}']").get_by_role("button", name=re.compile("Undo")).click()
    dash.reload()
    expect(dash.locator("#no-customers")).to_be_visible()
    assert not any(c["contacted"] for c in api(live_server, "customers", f"?theme={theme['key']}&page_size=200")["customers"])


def test_customers_of_a_driver_value_from_the_ranking(dash: Page, live_server: Any, seeded: dict) -> None:
    """The driver with the most effort links to its customers: the list, its CSV and its contacted
    marks are the API's for that event property value (a number's bucket as its range)."""
    drivers = api(live_server, "drivers")
    top = next(p for p in drivers["properties"] if p["source"] == "event" and p["most_effort"])
    value = top["most_effort"]
    dash.goto(insights_path(live_server))
    dash.get_by_role("link", name=f"Customers with {top['key']} = {value['value']}").click()
    if value["kind"] == "number":
        bucket = value["bucket"]
        query = f"?properties.{top['key']}[gte]={bucket['low']:g}" + (
            f"&properties.{top['key']}[lt]={bucket['high']:g}" if bucket["high"] is not None else "")
    else:
        query = f"?properties.{top['key']}={value['value']}"
    listed = api(live_server, "customers", query + "&page_size=10")
    assert listed["total"] > 0
    expect(dash.locator("#customers-total")).to_have_text(f"({listed['total']})")
    expect(dash.locator("#customers-measure")).to_contain_text(top["key"])
    rows = dash.locator("#customer-rows tbody tr")
    assert [r.get_attribute("data-user") for r in rows.all()] == [c["user_id"] for c in listed["customers"]]
    everyone = api(live_server, "customers", "?page_size=10")["total"]
    assert everyone > listed["total"], "the value narrows the list"
    with dash.expect_download() as info:
        dash.locator("#customers-csv").click()
    got = list(csv.reader(io.StringIO(open(info.value.path(), encoding="utf-8").read())))
    assert got == _api_csv(live_server, query)
    first = listed["customers"][0]["user_id"]
    dash.locator(f"#customer-rows tr[data-user='{first}']").get_by_role("button", name=re.compile("Mark contacted")).click()
    expect(dash.locator("#customers-measure")).to_contain_text(top["key"])  # the filter kept
    assert [c["user_id"] for c in api(live_server, "customers", query + "&page_size=200")["customers"]
            if c["contacted"]] == [first]
    screenshot(dash, "insights-driver-customers")
    dash.get_by_role("link", name="any value").click()
    expect(dash.locator("#customers-total")).to_have_text(f"({everyone})")
    assert axe_violations(dash) == []


def _api_csv(server: Any, query: str) -> list[list[str]]:
    from urllib.request import Request, urlopen
    req = Request(f"{server.url}/api/v1/surveys/{server.survey_id}/customers/export{query}",
                  headers={"Authorization": f"Bearer {server.admin_token}"})
    with urlopen(req) as resp:
        return list(csv.reader(io.StringIO(resp.read().decode("utf-8"))))


def test_contacted_needs_the_csrf_token(dash: Page, live_server: Any, seeded: dict) -> None:
    target = insights_path(live_server, "").replace("/insights", "/insights/contacted")
    resp = dash.request.post(target, form={"user_id": "mallory", "contacted": "true"})
    assert resp.status in (400, 401, 403)
    assert not any(c["contacted"] for c in api(live_server, "customers", "?page_size=200")["customers"])


def test_hostile_comment_and_trait_are_shown_as_text(dash: Page, live_server: Any, seeded: dict) -> None:
    dash.goto(insights_path(live_server, "?theme=delivery"))
    row = dash.locator("#customer-rows tr[data-user='mallory']")
    expect(row.locator(".comment-cell")).to_have_text(XSS_COMMENT)
    expect(row.locator(".cust-name")).to_have_text(XSS_NAME)
    expect(dash.locator("#themes")).to_contain_text("<img src=x")
    assert dash.locator("img[src='x']").count() == 0 and dash.locator("#customers script").count() == 0
    assert dash.evaluate("() => document.body.dataset.pwned") is None
    assert axe_violations(dash) == []


@pytest.mark.parametrize("query, field", [
    ("?from=yesterday", "from"), ("?theme=no-such-theme", "theme"), ("?theme=%3Cb%3E", "theme"),
    ("?with=99999", "with"), ("?cpage=x", "cpage"), ("?followed_up=maybe", "followed_up"),
    ("?touchpoint=abc", "touchpoint"), ("?interval=year", "interval"), ("?bogus=1", "bogus"),
    ("?from=2026-01-01&from=2026-02-01", "from"),
    ("?properties.transfers[near]=2", "properties.transfers"), ("?properties.transfers[gte]=many", "properties.transfers"),
])
def test_bad_query_values_give_a_message_not_an_error(dash: Page, live_server: Any, query: str, field: str) -> None:
    resp = dash.goto(insights_path(live_server, query))
    assert resp is not None and resp.status == 400
    expect(dash.locator("#query-error")).to_contain_text(field)
    expect(dash.get_by_role("heading", name="Themes of the comments")).to_have_count(0)


def test_bad_query_message_is_accessible_and_exports_refuse_bad_values(dash: Page, live_server: Any) -> None:
    dash.goto(insights_path(live_server, "?theme=%3Cscript%3E"))
    expect(dash.locator("#query-error code")).to_have_text("theme")
    assert axe_violations(dash) == []
    resp = dash.request.get(insights_path(live_server, "?from=nope").replace("/insights", "/insights/customers.csv"))
    assert resp.status == 400 and "from" in resp.text()


def test_a_second_survey_gives_the_cross_table_correlation_and_loyalty(dash: Page, live_server: Any,
                                                                    seeded: dict) -> None:
    storage = live_server.services.storage
    nps = storage.create_survey(live_server.site["id"], live_server.clock(), name="Would you recommend us?",
                                metric="nps")
    effort = {a["user_id"]: a["score"] for a in storage.all(
        "select user_id, score from answers where survey_id = ?", [live_server.survey_id])}
    now = live_server.clock()
    for i, (user, score) in enumerate(sorted(effort.items())[:120]):
        add_answer(live_server, nps["id"], user, min(10, max(0, score + 3 + (i % 3) - 1)), now - 600 - i, tag="nps")
    dash.goto(insights_path(live_server))
    expect(dash.get_by_label("Compare with")).to_have_value(str(nps["id"]))
    div = api(live_server, "divergence", f"?with={nps['id']}")
    loyal = api(live_server, "loyalty", f"?with={nps['id']}")
    expect(dash.locator("#pairs")).to_have_text(str(div["pairs"]))
    for a in ("negative", "neutral", "positive"):
        for b in ("negative", "neutral", "positive"):
            expect(dash.locator(f"#cross-table [data-cell='{a}-{b}']")).to_have_text(str(div["cross_table"]["groups"][a][b]))
    expect(dash.locator("#correlation strong")).to_have_text(f"{div['spearman']['r']:.2f}")
    for group, key in (("pos", "low_effort"), ("neg", "high_effort")):
        expect(dash.locator(f"#loyalty tr[data-group='{group}'] [data-share]")).to_have_text(
            f"{loyal[key]['share']:.1f} %")
    expect(dash.locator("#cross-table thead")).to_contain_text("Promoters")
    assert axe_violations(dash) == []
    screenshot(dash, "insights-compare")
    # The selector is in the URL, and a survey of another site is refused with a message.
    dash.get_by_role("button", name="Compare").click()
    expect(dash).to_have_url(re.compile(rf"with={nps['id']}"))


def test_a_survey_without_answers(dash: Page, live_server: Any) -> None:
    dash.goto(insights_path(live_server))
    expect(dash.locator("#themes")).to_contain_text("No comment in this period yet")
    expect(dash.locator("#no-customers")).to_be_visible()
    expect(dash.locator("#drivers")).to_contain_text("No event property")
    expect(dash.locator("#fix-first")).to_contain_text("Nothing scores worse")
    assert axe_violations(dash) == []


def test_a_read_only_account_sees_the_customers_but_cannot_mark_them(page: Page, live_server: Any,
                                                                   seeded: dict) -> None:
    from ces.storage.tokens import TokenStore
    _, token = TokenStore(live_server.services.storage).create("viewer", live_server.clock(), read_only=True)
    login(page, live_server, token=token)
    page.goto(insights_path(live_server, "?theme=delivery"))
    expect(page.locator("#customer-rows tr[data-user='mallory']")).to_contain_text("Read-only account")
    expect(page.locator(".contact-form")).to_have_count(0)
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    target = insights_path(live_server).replace("/insights", "/insights/contacted")
    resp = page.request.post(target, form={"csrf_token": csrf or "", "user_id": "mallory", "theme": "delivery"})
    assert resp.status == 403
    assert not any(c["contacted"] for c in api(live_server, "customers", "?theme=delivery")["customers"])
