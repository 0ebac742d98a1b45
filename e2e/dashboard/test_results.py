"""The survey results page in real Chromium against a real server: its numbers against the report
API's JSON for the same filters, filters kept in the URL, exports, follow-ups, comments, hostile
text, bad URLs, accessibility and screenshots."""
from __future__ import annotations

import csv
import io
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import Page, expect

from dashboard_support import axe_violations, login, screenshot, site_url
from results_seed import XSS, seed_weeks


def results_path(server: Any, query: str = "") -> str:
    return site_url(server, f"/surveys/{server.survey_id}") + query


def api(server: Any, what: str, query: str = "") -> dict[str, Any]:
    status, body = server.admin("GET", f"/api/v1/surveys/{server.survey_id}/{what}{query}")
    assert status == 200, body
    return body


def fmt_share(v: float | None) -> str:
    return "–" if v is None else f"{v:.1f} %"


def fmt_count(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


def shown_numbers(page: Page) -> dict[str, Any]:
    """What the page shows, read from the DOM."""
    funnel = {row.get_attribute("data-step"): row.locator("[data-n]").inner_text()
              for row in page.locator("#funnel tbody tr").all()}
    dist = {row.get_attribute("data-score"): row.locator("[data-n]").inner_text()
            for row in page.locator("#distribution tbody tr").all()}
    return {"score": page.locator("#headline-score").inner_text(), "ci": page.locator("#headline-ci").inner_text(),
            "n": page.locator("#headline-n").inner_text(), "funnel": funnel, "distribution": dist,
            "chart": json.loads(page.locator("#trend-data").text_content() or "{}")}


def expected_numbers(report: dict[str, Any]) -> dict[str, Any]:
    s, f = report["score"], report["funnel"]
    ci = s["headline_ci"]
    return {"score": fmt_share(s["headline"]), "ci": f"{ci['low']:.1f} to {ci['high']:.1f}", "n": fmt_count(s["n"]),
            "funnel": {"events-matched": fmt_count(f["events_matched"]), "prompts-issued": fmt_count(f["issued"]),
                       "delivered": fmt_count(f["delivered"]), "shown": fmt_count(f["shown"]),
                       "answered": fmt_count(f["answered"]), "dismissed": fmt_count(f["dismissed"]),
                       "expired": fmt_count(f["expired"])},
            "distribution": {str(k): fmt_count(s["distribution"].get(str(k), 0)) for k in range(1, 8)},
            "periods": [p["start"] for p in report["over_time"]["periods"]],
            "headlines": [p["headline"] for p in report["over_time"]["periods"]]}


def check_against_api(page: Page, server: Any, query: str) -> dict[str, Any]:
    report = api(server, "report", query)
    shown, want = shown_numbers(page), expected_numbers(report)
    assert shown["score"] == want["score"] and shown["ci"] == want["ci"] and shown["n"] == want["n"], (shown, want)
    assert shown["funnel"] == want["funnel"]
    assert shown["distribution"] == want["distribution"]
    assert shown["chart"]["x"] == want["periods"] and shown["chart"]["y"] == want["headlines"]
    return report


def query_of(page: Page) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(page.url).query)


@pytest.fixture
def seeded(live_server: Any) -> dict[str, Any]:
    return seed_weeks(live_server)


def test_numbers_match_the_report_api_and_the_page_is_accessible(dash: Page, live_server: Any, seeded: dict) -> None:
    dash.set_viewport_size({"width": 1280, "height": 800})
    dash.goto(results_path(live_server))
    expect(dash.locator("#trend-chart canvas")).to_be_visible()  # uPlot drew the trend
    # The page's default driver is the first property; the API gives the same with driver=channel.
    report = check_against_api(dash, live_server, "?driver=channel")
    assert report["score"]["n"] == seeded["answers"]
    rows = dash.locator("#driver-rows tbody tr")
    expect(rows).to_have_count(len(report["drivers"]["values"]))
    expect(dash.locator("#touchpoints tbody tr")).to_have_count(len(report["by_touchpoint"]))
    # The low-sample periods (here: every week under 30 answers) are marked in the chart's data.
    chart = shown_numbers(dash)["chart"]
    assert chart["low_sample"] == [p["low_sample"] for p in report["over_time"]["periods"]]
    assert any(chart["low_sample"]) and not all(chart["low_sample"])
    assert chart["lo"][0] is not None and chart["hi"][0] is not None
    assert axe_violations(dash) == []
    paths = screenshot(dash, "results")
    assert all(p.stat().st_size > 20_000 for p in paths)


def test_filters_change_chart_numbers_and_url_and_a_shared_url_reproduces_the_view(
        dash: Page, live_server: Any, seeded: dict) -> None:
    dash.goto(results_path(live_server))
    before = shown_numbers(dash)
    tickets = next(t for t in api(live_server, "filters")["triggers"] if t["event_name"] == "ticket_closed")
    dash.get_by_label("Touchpoint (trigger)").select_option(str(tickets["id"]))
    expect(dash).to_have_url(re.compile(rf"[?&]trigger={tickets['id']}(&|$)"))
    expect(dash.locator("#headline-n")).not_to_have_text(before["n"])
    check_against_api(dash, live_server, f"?trigger={tickets['id']}&driver=channel")
    dash.get_by_label("Trend by").select_option("day")
    expect(dash).to_have_url(re.compile(r"interval=day"))
    after = shown_numbers(dash)
    assert after["chart"]["interval"] == "day" and len(after["chart"]["x"]) > len(before["chart"]["x"])
    expect(dash.locator("#trend-chart canvas")).to_be_visible()
    # A property filter through the form's new row, written in the API's own words in the URL.
    dash.locator("#pk-new").fill("channel")
    dash.locator("#pv-new").fill("phone")
    dash.get_by_role("button", name="Apply filters").click()
    expect(dash).to_have_url(re.compile(r"properties\.channel=phone"))
    query = urlsplit(dash.url).query
    assert ("interval", "day") in query_of(dash) and ("trigger", str(tickets["id"])) in query_of(dash)
    assert ("driver", "channel") in query_of(dash)  # the form carries the driver shown
    check_against_api(dash, live_server, f"?{query}")
    expect(dash.locator(".api-note")).to_contain_text("properties.channel=phone")
    shown = shown_numbers(dash)

    # Another browser context (a colleague), logged in, opens the shared address: the same view.
    other = dash.context.browser.new_context().new_page()  # type: ignore[union-attr]
    try:
        login(other, live_server, next_path=urlsplit(dash.url).path + "?" + query)
        other.goto(dash.url)
        assert shown_numbers(other) == shown
        expect(other.get_by_label("Touchpoint (trigger)")).to_have_value(str(tickets["id"]))
        expect(other.get_by_label("Trend by")).to_have_value("day")
    finally:
        other.context.close()

    # Back in history is the previous view.
    dash.go_back()
    expect(dash).not_to_have_url(re.compile(r"properties\.channel"))
    expect(dash.locator("#headline-n")).to_have_text(after["n"])


def test_export_csv_and_jsonl_downloads(dash: Page, live_server: Any, seeded: dict) -> None:
    dash.goto(results_path(live_server))
    with dash.expect_download() as info:
        dash.get_by_role("link", name="Export CSV").click()
    download = info.value
    assert download.suggested_filename == f"survey-{live_server.survey_id}-answers.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert len(rows) == seeded["answers"]
    assert sorted(r["user_id"] for r in rows) == sorted(seeded["users"])
    # The export follows the filters of the view.
    dash.locator("#pk-new").fill("channel")
    dash.locator("#pv-new").fill("chat")
    dash.get_by_role("button", name="Apply filters").click()
    expect(dash).to_have_url(re.compile(r"properties\.channel=chat"))
    with dash.expect_download() as info:
        dash.get_by_role("link", name="Export JSON lines").click()
    lines = [json.loads(x) for x in open(info.value.path(), encoding="utf-8").read().splitlines()]
    n = api(live_server, "report", "?properties.channel=chat")["score"]["n"]
    assert len(lines) == n and 0 < n < seeded["answers"]
    assert {x["properties"]["channel"] for x in lines} == {"chat"}


def test_mark_an_at_risk_customer_followed_up(dash: Page, live_server: Any, seeded: dict) -> None:
    dash.goto(results_path(live_server))
    first = dash.locator("#risk-list li").first
    user = first.locator(".risk-user").inner_text()
    at_risk = api(live_server, "at-risk", "?page_size=10")
    assert at_risk["users"][0]["user_id"] == user
    expect(dash.locator("#risk-title")).to_contain_text(f"({at_risk['total']})")
    first.get_by_role("button", name=re.compile("Mark followed up")).click()
    expect(dash.locator("#live")).to_contain_text(f"{user} marked as followed up")
    expect(dash.locator("#risk-list .risk-user", has_text=user)).to_have_count(0)
    expect(dash.locator("#risk-title")).to_contain_text(f"({at_risk['total'] - 1})")
    # Persisted: after a reload, under "Followed up", and in the API.
    dash.reload()
    expect(dash.locator("#risk-list .risk-user", has_text=user)).to_have_count(0)
    dash.get_by_label("Show").select_option("true")
    expect(dash).to_have_url(re.compile(r"followed_up=true"))
    row = dash.locator("#risk-list li", has=dash.locator(".risk-user", has_text=user))
    expect(row.locator(".followed")).to_be_visible()
    done = api(live_server, "at-risk", "?followed_up=true")
    assert [u["user_id"] for u in done["users"]] == [user] and done["users"][0]["followed_up_at"]
    audit = live_server.services.storage.all(
        "select actor_kind, actor_name, target from audit_log where action = 'answer.follow_up'")
    assert audit == [{"actor_kind": "token", "actor_name": "tests", "target": f"answer:{done['users'][0]['answer_id']}"}]
    # Undo it, without JavaScript's help too: the plain form post.
    row.get_by_role("button", name=re.compile("Undo follow-up")).click()
    expect(dash.locator("#risk-list .risk-user", has_text=user)).to_have_count(0)
    assert api(live_server, "at-risk", "?followed_up=true")["total"] == 0


def test_follow_up_needs_the_csrf_token(dash: Page, live_server: Any, seeded: dict) -> None:
    answer_id = api(live_server, "at-risk")["users"][0]["answer_id"]
    path = site_url(live_server, f"/answers/{answer_id}/follow-up")
    status = dash.evaluate("""async (path) => (await fetch(path, {method: 'POST', headers:
        {'Content-Type': 'application/json', 'Accept': 'application/json'}, body: '{"followed_up": true}'})).status""",
                           path)
    assert status == 400
    assert api(live_server, "at-risk", "?followed_up=true")["total"] == 0


def test_comments_search_score_filter_and_hostile_text(dash: Page, live_server: Any, seeded: dict) -> None:
    dialogs: list[str] = []
    dash.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    dash.goto(results_path(live_server))
    comments = dash.locator("#comment-list .comment-text")
    total = api(live_server, "comments")["total"]
    expect(dash.locator("#comments-title")).to_contain_text(f"({total})")
    # The hostile comments are text on the page, never markup (found by searching for them, which
    # also goes through the server's rendering and the swap of the view).
    for text, search in zip(XSS, ("<script>", "onerror")):
        dash.get_by_label("Search").fill(search)
        expect(dash.locator("#comment-list .comment-text")).to_have_text([text])
        assert dash.locator("#comment-list script, #comment-list img").count() == 0
    dash.goto(results_path(live_server, "?q=onerror"))  # and on a page load from the server
    expect(dash.locator("#comment-list .comment-text")).to_have_text([XSS[1]])
    assert dash.locator("img[src=x]").count() == 0
    assert dash.evaluate("() => document.body.dataset.pwned") is None and dialogs == []
    dash.goto(results_path(live_server))
    # Search as you type.
    dash.get_by_label("Search").fill("PHONE")
    expect(dash).to_have_url(re.compile(r"q=PHONE"))
    want = api(live_server, "comments", "?q=PHONE")
    expect(comments).to_have_count(min(want["total"], 20))
    for text in comments.all_inner_texts():
        assert "phone" in text.lower()
    # Score filter, with the search kept.
    dash.get_by_label("Score", exact=True).select_option("1,2,3")
    expect(dash).to_have_url(re.compile(r"score=1%2C2%2C3"))
    want = api(live_server, "comments", "?q=PHONE&score=1,2,3")
    expect(comments).to_have_count(min(want["total"], 20))
    chips = dash.locator("#comment-list li .score-chip").all_inner_texts()
    assert all(int(c) <= 3 for c in chips)
    dash.get_by_label("Search").fill("")
    expect(dash).not_to_have_url(re.compile(r"q="))
    expect(dash.locator("#comments-title")).to_contain_text(f"({api(live_server, 'comments', '?score=1,2,3')['total']})")


@pytest.mark.parametrize("query, field", [
    ("?from=yesterday", "from"), ("?from=2026-03-10&to=2026-03-01", "to"), ("?trigger=abc", "trigger"),
    ("?interval=year", "interval"), ("?score=99", "score"), ("?properties.channel[near]=x", "properties.channel[near]"),
    ("?followed_up=maybe", "followed_up"), ("?tz=Mars/Base", "tz"), ("?a.from=soon", "a.from"),
    ("?colour=blue", "colour"), ("?cpage=0", "cpage"),
])
def test_bad_filter_values_give_a_clear_message(dash: Page, live_server: Any, query: str, field: str) -> None:
    response = dash.goto(results_path(live_server, query))
    assert response is not None and response.status == 400
    alert = dash.get_by_role("alert")
    expect(alert).to_contain_text("not valid")
    expect(alert.locator("code")).to_have_text(field)
    expect(dash.get_by_role("link", name="start again without filters")).to_be_visible()


def test_bad_filter_message_is_accessible(dash: Page, live_server: Any) -> None:
    dash.goto(results_path(live_server, "?from=soon"))
    assert axe_violations(dash) == []


def test_without_javascript_the_page_and_forms_work(browser: Any, live_server: Any, seeded: dict) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        login(page, live_server)
        page.goto(results_path(live_server))
        check_against_api(page, live_server, "?driver=channel")
        page.locator("#pk-new").fill("channel")
        page.locator("#pv-new").fill("email")
        page.get_by_role("button", name="Apply filters").click()
        expect(page).to_have_url(re.compile(r"\?.*properties\.channel=email"))
        assert not re.search(r"[?&](pkey|pop|pval|from)=", page.url)  # written as the API's query
        check_against_api(page, live_server, "?properties.channel=email&driver=channel")
    finally:
        context.close()


def test_another_sites_survey_is_not_found(dash: Page, live_server: Any) -> None:
    storage = live_server.services.storage
    other = storage.create_site("Other shop", live_server.clock())
    survey = storage.create_survey(other["id"], live_server.clock(), name="Theirs", metric="ces7")
    response = dash.goto(site_url(live_server, f"/surveys/{survey['id']}"))
    assert response is not None and response.status == 404


def test_compare_two_segments_and_the_default_periods(dash: Page, live_server: Any, seeded: dict) -> None:
    dash.goto(results_path(live_server))
    # By default: the last 28 days against the 28 days before, as the compare API gives them.
    a_from = dash.locator("#a-from").input_value()
    a_to, b_from, b_to = (dash.locator(f"#{x}").input_value() for x in ("a-to", "b-from", "b-to"))
    want = api(live_server, "compare", f"?a.from={a_from}&a.to={a_to}&b.from={b_from}&b.to={b_to}")
    expect(dash.locator("#compare-a")).to_have_text(fmt_share(want["a"]["headline"]))
    expect(dash.locator("#compare-b")).to_have_text(fmt_share(want["b"]["headline"]))
    assert "a.from" not in dash.url  # the default is not pinned into the address
    # Two segments: checkout against tickets, over the whole period.
    triggers = {t["event_name"]: t["id"] for t in api(live_server, "filters")["triggers"]}
    for side in ("a", "b"):
        dash.locator(f"#{side}-from").fill("")
        dash.locator(f"#{side}-to").fill("")
    dash.locator("#a-trigger").select_option(str(triggers["checkout_completed"]))
    dash.locator("#b-trigger").select_option(str(triggers["ticket_closed"]))
    dash.get_by_role("button", name="Compare").click()
    expect(dash).to_have_url(re.compile(rf"a\.trigger={triggers['checkout_completed']}"))
    assert ("b.trigger", str(triggers["ticket_closed"])) in query_of(dash)
    want = api(live_server, "compare", f"?a.trigger={triggers['checkout_completed']}&b.trigger={triggers['ticket_closed']}")
    d = want["difference"]
    expect(dash.locator("#compare-a")).to_have_text(fmt_share(want["a"]["headline"]))
    expect(dash.locator("#compare-b")).to_have_text(fmt_share(want["b"]["headline"]))
    text = dash.locator("#compare-difference").inner_text()
    assert f"B − A: {d['difference']:+.1f} pts" in text and f"{d['ci']['low']:.1f} to {d['ci']['high']:.1f}" in text
    assert ("not significant" not in text) == d["significant"]
    # The seed makes tickets (transfers) clearly harder than checkout.
    assert d["difference"] < 0 and d["significant"]
    # A filter of the whole view keeps the chosen comparison.
    dash.get_by_label("Locale").select_option("en")
    expect(dash).to_have_url(re.compile(r"locale=en"))
    assert ("b.trigger", str(triggers["ticket_closed"])) in query_of(dash)


def test_a_survey_without_answers_and_an_nps_survey(dash: Page, live_server: Any) -> None:
    dash.goto(results_path(live_server))
    expect(dash.locator("#headline-score")).to_have_text("–")
    expect(dash.locator("#headline-n")).to_have_text("0")
    expect(dash.locator("#trend-chart")).to_contain_text("No answers for these filters")
    expect(dash.locator("#comment-list")).to_contain_text("No comment")
    expect(dash.locator("#risk-list")).to_contain_text("No one left to contact")
    assert axe_violations(dash) == []
    # An NPS survey: net scores from −100 to +100, the 0–10 scale in the distribution and the filter.
    storage = live_server.services.storage
    nps = storage.create_survey(live_server.site["id"], live_server.clock(), name="Would you recommend us?",
                                metric="nps")
    with storage.write() as db:
        for i, score in enumerate([10, 9, 9, 8, 3, 0, 10]):
            pid = f"p_nps{i}"
            t = live_server.clock() - 3600 * (i + 1)
            db.execute("insert into prompts (id, site_id, user_id, survey_id, trigger_id, status, locale, created_at, "
                       "deliver_after, expires_at, delivered_at, shown_at, closed_at) values (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       [pid, live_server.site["id"], f"n{i}", nps["id"], None, "answered", "en", t, t, t + 86400,
                        t, t, t + 5])
            db.execute("insert into answers (prompt_id, site_id, survey_id, user_id, score, created_at) "
                       "values (?,?,?,?,?,?)", [pid, live_server.site["id"], nps["id"], f"n{i}", score, t + 5])
    dash.goto(site_url(live_server, f"/surveys/{nps['id']}"))
    status, report = live_server.admin("GET", f"/api/v1/surveys/{nps['id']}/report")
    assert status == 200
    expect(dash.locator("#headline-score")).to_have_text(f"{report['score']['headline']:+.1f}")
    expect(dash.locator("#distribution tbody tr")).to_have_count(11)
    expect(dash.locator("#headline-title")).to_contain_text("NPS")
    expect(dash.locator("#risk-title")).to_contain_text("(2)")  # detractors: 3 and 0
    expect(dash.locator("#trend-chart canvas")).to_be_visible()
    screenshot(dash, "results-nps")


def test_a_read_only_account_sees_the_results_but_cannot_mark_follow_ups(page: Page, live_server: Any,
                                                                         seeded: dict) -> None:
    from ces.storage.tokens import TokenStore
    _, token = TokenStore(live_server.services.storage).create("viewer", live_server.clock(), read_only=True)
    login(page, live_server, token=token)
    page.goto(results_path(live_server))
    expect(page.locator("#headline-n")).to_have_text(fmt_count(seeded["answers"]))
    expect(page.locator("#risk-list")).to_contain_text("Read-only account")
    expect(page.locator(".follow-form")).to_have_count(0)
    answer_id = api(live_server, "at-risk")["users"][0]["answer_id"]
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    status = page.evaluate("""async ([path, csrf]) => (await fetch(path, {method: 'POST', headers: {'X-CSRF-Token': csrf,
        'Content-Type': 'application/json', 'Accept': 'application/json'}, body: '{"followed_up": true}'})).status""",
                           [site_url(live_server, f"/answers/{answer_id}/follow-up"), csrf])
    assert status == 403
    assert api(live_server, "at-risk", "?followed_up=true")["total"] == 0


def test_typing_in_the_search_while_the_view_reloads_loses_nothing(dash: Page, live_server: Any, seeded: dict) -> None:
    dash.goto(results_path(live_server))
    box = dash.get_by_label("Search")
    box.click()
    box.press_sequentially("waited too long", delay=140)  # pauses long enough to send, typing on meanwhile
    expect(dash).to_have_url(re.compile(r"q=waited\+too\+long(&|$)"))
    expect(dash.get_by_label("Search")).to_have_value("waited too long")
    expect(dash.get_by_label("Search")).to_be_focused()
    want = api(live_server, "comments", "?q=waited%20too%20long")
    expect(dash.locator("#comment-list .comment-text")).to_have_count(min(want["total"], 20))
    assert want["total"] > 0


def test_follow_up_refuses_a_value_that_is_not_a_boolean(dash: Page, live_server: Any, seeded: dict) -> None:
    answer_id = api(live_server, "at-risk")["users"][0]["answer_id"]
    csrf = dash.locator('meta[name="csrf-token"]').get_attribute("content")
    status = dash.evaluate("""async ([path, csrf]) => (await fetch(path, {method: 'POST', headers: {'X-CSRF-Token': csrf,
        'Content-Type': 'application/json', 'Accept': 'application/json'}, body: '{"followed_up": "maybe"}'})).status""",
                           [site_url(live_server, f"/answers/{answer_id}/follow-up"), csrf])
    assert status == 400
    assert api(live_server, "at-risk", "?followed_up=true")["total"] == 0


def test_the_page_says_the_sites_time_zone(dash: Page, live_server: Any) -> None:
    status, _ = live_server.admin("PATCH", f"/api/v1/sites/{live_server.site['id']}", {"time_zone": "Europe/Paris"})
    assert status == 200
    dash.goto(results_path(live_server))
    expect(dash.locator(".filter-actions")).to_contain_text("Days in Europe/Paris")
    dash.goto(results_path(live_server, "?from=never"))
    expect(dash.locator(".filter-actions")).to_contain_text("Days in Europe/Paris")
