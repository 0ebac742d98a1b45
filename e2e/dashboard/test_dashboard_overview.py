"""The Overview: scores as the report API gives them, the live counter and feed, escaping,
accessibility and the screenshots."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from ces.testing import http
from dashboard_support import axe_violations, screenshot, seed_answers, site_url

XSS = ["<script>alert(1)</script>", '<img src=x onerror="window.__pwned=1">']


def test_each_survey_shows_the_report_apis_headline_interval_n_and_rate(live_server, dash: Page) -> None:
    seed_answers(live_server, [7, 6, 5, 2, 1, 7])
    dash.reload()
    status, report = http("GET", f"{live_server.url}/api/v1/surveys/{live_server.survey_id}/report",
                          token=live_server.admin_token)
    assert status == 200
    row = dash.locator("article.survey-row").first
    score = report["score"]
    expect(row.get_by_test_id("headline")).to_have_text(f"{score['headline']:.0f}%")
    expect(row.get_by_test_id("n")).to_have_text(str(score["n"]))
    ci = score["headline_ci"]
    expect(row).to_contain_text(f"95% CI {ci['low']:.0f} to {ci['high']:.0f}%")
    expect(row.get_by_text("Low sample")).to_be_visible()  # 6 < 30
    rate = report["funnel"]["response_rate"]
    expect(row).to_contain_text(f"Response rate {rate:.0f}%")
    expect(row.get_by_role("img")).to_have_attribute("aria-label", f"Weekly agree it was easy, last 12 weeks: "
                                                     f"{report['over_time']['periods'][-1]['headline']:.0f}% (n=6)")


def test_the_counter_and_the_feed_move_without_reload(live_server, dash: Page) -> None:
    counter = dash.locator("#connected")
    expect(counter).to_have_text("0")
    dash.evaluate("() => { window.__same_page = true; }")
    widget = live_server.ws("live-user")  # a real websocket client saying hello
    expect(counter).to_have_text("1")
    other = live_server.ws("live-user-2")
    expect(counter).to_have_text("2")
    other.close()
    expect(counter).to_have_text("1")
    widget.close()
    expect(counter).to_have_text("0")
    expect(dash.get_by_text("No answers yet.")).to_be_visible()
    seed_answers(live_server, [3], comments=["The checkout asked for my address twice"])
    first = dash.locator("#feed li").first
    expect(first).to_contain_text("The checkout asked for my address twice")
    expect(first.locator(".feed-score")).to_have_text("3")
    expect(dash.get_by_text("No answers yet.")).to_be_hidden()
    seed_answers(live_server, [6], comments=["Fine"])
    expect(dash.locator("#feed li").first).to_contain_text("Fine")
    expect(dash.locator("#feed li")).to_have_count(2)
    assert dash.evaluate("() => window.__same_page") is True  # never reloaded


def test_hostile_comments_show_as_text_live_and_after_reload(live_server, dash: Page) -> None:
    dialogs: list[str] = []
    dash.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    status, _ = http("PATCH", f"{live_server.url}/api/v1/surveys/{live_server.survey_id}", {"name": XSS[1]},
                     token=live_server.admin_token)
    assert status == 200
    seed_answers(live_server, [2, 1], comments=XSS)
    feed = dash.locator("#feed")
    expect(feed.locator(".feed-survey").first).to_have_text(XSS[1])  # a survey name, live, as text
    comments = feed.locator(".feed-comment")
    expect(comments).to_have_text(list(reversed(XSS)))  # arrived live, newest first, as text
    dash.reload()
    expect(comments).to_have_text(list(reversed(XSS)))  # rendered by the server, as text
    expect(dash.locator("article.survey-row h3")).to_have_text(XSS[1])
    assert dash.locator("main img, main script").count() == 0
    assert dash.evaluate("() => window.__pwned") is None and dialogs == []


def test_the_live_endpoint_needs_a_login(live_server) -> None:
    import urllib.error
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
            return None
    try:
        urllib.request.build_opener(NoRedirect).open(site_url(live_server, "/live.json"))
        raise AssertionError("answered without a login")
    except urllib.error.HTTPError as err:
        assert err.code == 302 and "/dashboard/login" in err.headers["Location"]


def test_overview_has_no_axe_violations_and_screenshots(live_server, dash: Page) -> None:
    seed_answers(live_server, [7, 6, 6, 5, 3, 7, 2], comments=["Smooth", None, "Took two tries to pay", None, None, None, None])
    live_server.ws("watching")
    dash.reload()
    expect(dash.locator("#connected")).to_have_text("1")
    assert axe_violations(dash) == []
    screenshot(dash, "overview")


def test_a_survey_without_answers_says_so(live_server, dash: Page) -> None:
    row = dash.locator("article.survey-row").first
    expect(row.get_by_test_id("headline")).to_have_text("–")
    expect(row.get_by_text("No answers yet")).to_be_visible()
    expect(row.get_by_text("Low sample")).to_have_count(0)
    expect(row.get_by_text("No interval yet")).to_be_visible()
