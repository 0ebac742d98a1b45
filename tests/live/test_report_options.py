"""The report services the dashboard's results page added to the API: comments by score, and what
a survey's report can be filtered by."""
from __future__ import annotations

from ces.testing import LiveServer

from test_reports import seed


def test_comments_score_filter(live_server: LiveServer) -> None:
    seed(live_server, [
        {"user": "a", "score": 1, "comment": "awful wait"},
        {"user": "b", "score": 2, "comment": "slow wait"},
        {"user": "c", "score": 7, "comment": "quick, no wait"},
        {"user": "d", "score": 2, "comment": "lost my cart"},
    ])
    path = f"/api/v1/surveys/{live_server.survey_id}/comments"
    status, body = live_server.admin("GET", path + "?score=2")
    assert status == 200, body
    assert sorted(c["comment"] for c in body["comments"]) == ["lost my cart", "slow wait"]
    assert body["score"] == [2] and body["total"] == 2
    status, body = live_server.admin("GET", path + "?score=1,2&q=WAIT")
    assert sorted(c["comment"] for c in body["comments"]) == ["awful wait", "slow wait"]
    status, body = live_server.admin("GET", path)
    assert body["total"] == 4 and body["score"] is None
    for bad, words in (("8", "1 to 7"), ("x", "scores separated by commas"), ("1,,2", "commas")):
        status, body = live_server.admin("GET", path + f"?score={bad}")
        assert status == 400 and "score" in body["error"]["fields"], body
        assert words in body["error"]["fields"]["score"][0]


def test_filter_options(live_server: LiveServer) -> None:
    seed(live_server, [
        {"user": "a", "score": 5, "locale": "fr", "variant": "short", "props": {"channel": "chat", "transfers": 2}},
        {"user": "b", "score": 3, "locale": "en", "event": "ticket_closed", "props": {"wait": 4}},
        {"user": "c", "status": "dismissed", "locale": "ro"},
    ])
    status, body = live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/filters")
    assert status == 200, body
    assert body["metric"] == "ces7" and body["scale"] == {"min": 1, "max": 7} and body["high_effort_max"] == 3
    assert body["locales"] == ["en", "fr"] and body["variants"] == ["short"]  # from the answers
    assert body["properties"] == ["channel", "transfers", "wait"]
    assert {t["event_name"] for t in body["triggers"]} >= {"checkout_completed", "ticket_closed"}
    assert "in" in body["operators"] and body["intervals"] == ["day", "week", "month"]
    status, body = live_server.admin("GET", "/api/v1/surveys/999/filters")
    assert status == 404 and "survey_id" in str(body)
    status, body = live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/filters?from=2026-01-01")
    assert status == 400 and body["error"]["fields"] == {"from": ["unknown parameter"]}
