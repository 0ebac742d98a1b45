"""Reports through the real API on a seeded database: funnel, trend, touchpoints, drivers,
comments, at-risk customers and follow-up, filters and bad input."""
from __future__ import annotations

import itertools
import json
from datetime import datetime, timezone

import pytest

from ces.core.scoring import score as pure_score
from ces.storage.reports import Reports
from ces.testing import LiveServer

DAY = 86400
T0 = datetime(2026, 3, 2, tzinfo=timezone.utc).timestamp()  # a Monday
_ids = itertools.count(1)


def seed(server: LiveServer, rows: list[dict]) -> None:
    """Insert event + prompt (+ answer) per row through the Storage; rows give day, score or status…"""
    storage = server.services.storage
    triggers = {t["event_name"]: t["id"] for t in storage.all("select id, event_name from triggers")}
    with storage.write() as db:
        for r in rows:
            i = next(_ids)
            t = T0 + r.get("day", 0) * DAY + r.get("second", 3600)
            trigger_id = triggers[r.get("event", "checkout_completed")]
            pid = f"p_seed{i}"
            status = r.get("status", "answered")
            eid = db.execute(
                "insert into events (site_id, event_id, user_id, name, properties, timestamp, received_at, source, "
                "decision, reason, trigger_id, prompt_id) values (?,?,?,?,?,?,?,?,?,?,?,?)",
                [server.site["id"], f"e{i}", r["user"], r.get("event", "checkout_completed"),
                 json.dumps(r.get("props", {})), t, t, "backend", "prompt", "prompted", trigger_id, pid]).lastrowid
            shown = t + 5 if status in ("answered", "dismissed", "shown") else None
            db.execute(
                "insert into prompts (id, site_id, user_id, survey_id, trigger_id, event_row, status, locale, "
                "created_at, deliver_after, expires_at, delivered_at, shown_at, closed_at, variant) "
                "values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [pid, server.site["id"], r["user"], server.survey_id, trigger_id, eid, status, r.get("locale", "en"),
                 t, t, r.get("expires", server.clock() + 30 * DAY), t + 1 if status != "issued" else None, shown,
                 t + 10 if status in ("answered", "dismissed") else None, r.get("variant")])
            if status == "answered":
                db.execute("insert into answers (prompt_id, site_id, survey_id, user_id, score, comment, created_at) "
                           "values (?,?,?,?,?,?,?)", [pid, server.site["id"], server.survey_id, r["user"], r["score"],
                                                      r.get("comment"), t + 10])
    Reports(storage).rebuild_funnel_rollup()  # prompts were inserted already closed


def report(server: LiveServer, query: str = "") -> dict:
    status, body = server.admin("GET", f"/api/v1/surveys/{server.survey_id}/report{query}")
    assert status == 200, body
    return body


def test_report_sections_on_seeded_data(live_server: LiveServer) -> None:
    rows = []
    # Week 1: checkout, 10 answers; week 2: tickets, 10 answers; plus funnel-only prompts.
    for k in range(10):
        rows.append({"user": f"c{k}", "day": k % 5, "score": 7 if k < 6 else 2, "props": {"channel": "web", "transfers": 0}})
        rows.append({"user": f"t{k}", "day": 7 + k % 5, "event": "ticket_closed", "score": 6 if k < 3 else 1,
                     "props": {"channel": "chat" if k < 5 else "phone", "transfers": k}, "comment": f"slow {k}" if k >= 3 else None})
    rows += [{"user": "d1", "status": "dismissed"}, {"user": "d2", "status": "dismissed"},
             {"user": "x1", "status": "expired"}, {"user": "s1", "status": "shown"}, {"user": "i1", "status": "issued"}]
    seed(live_server, rows)
    body = report(live_server, "?interval=week&driver=transfers")
    assert body["source"] == "rollup"
    answers = [r["score"] for r in rows if "score" in r]
    assert body["score"] == pure_score("ces7", answers).as_dict()
    assert body["score"]["n"] == 20 and body["score"]["headline"] == 45.0
    f = body["funnel"]
    assert (f["issued"], f["shown"], f["answered"], f["dismissed"], f["expired"], f["open"]) == (25, 23, 20, 2, 1, 2)
    assert f["events_matched"] == 25 and f["response_rate"] == round(100 * 20 / 23, 2)
    # The report columns (a range off midnight) give the same funnel as the rollups.
    base = report(live_server, "?from=2026-03-01T00:00:01Z")
    assert base["source"] == "columns" and base["funnel"] == f and base["score"] == body["score"]
    # And the trend, touchpoints and driver: the same sections.
    based = report(live_server, "?interval=week&driver=transfers&from=2026-03-01T00:00:01Z")
    assert based["source"] == "columns"
    for section in ("score", "funnel", "over_time", "by_touchpoint", "drivers"):
        assert based[section] == body[section], section
    periods = body["over_time"]["periods"]
    assert [p["start"] for p in periods] == ["2026-03-02", "2026-03-09"]
    assert [p["n"] for p in periods] == [10, 10] and [p["headline"] for p in periods] == [60.0, 30.0]
    assert all(p["headline_ci"]["low"] < p["headline"] < p["headline_ci"]["high"] for p in periods)
    touch = {t["event_name"]: t for t in body["by_touchpoint"]}
    assert touch["checkout_completed"]["headline"] == 60.0 and touch["ticket_closed"]["headline"] == 30.0
    # Drivers: 5-9 transfers (all difficult) ranks first, most below the rest.
    values = body["drivers"]["values"]
    assert body["drivers"]["property"] == "transfers"
    by_value = {v["value"]: v for v in values}
    assert set(by_value) == {"0", "1", "2", "3-4", "5-9"}
    assert by_value["5-9"]["n"] == 5 and by_value["5-9"]["headline"] == 0.0
    assert by_value["0"]["n"] == 11
    diffs = [v["difference"] for v in values]
    assert diffs == sorted(diffs) and values[0]["value"] == "5-9" and values[0]["significant"]
    # Day-level daily trend has one period per day with answers.
    daily = report(live_server, "?interval=day")["over_time"]["periods"]
    assert sum(p["n"] for p in daily) == 20 and len(daily) == 10
    monthly = report(live_server, "?interval=month")["over_time"]["periods"]
    assert [p["start"] for p in monthly] == ["2026-03-01"]


def test_filters_rollup_and_base_paths_agree(live_server: LiveServer) -> None:
    rows = []
    for k in range(40):
        rows.append({"user": f"u{k}", "day": k % 14, "score": 1 + k % 7, "locale": "fr" if k % 3 == 0 else "en",
                     "variant": "b" if k % 2 else "a", "event": "ticket_closed" if k % 4 == 0 else "checkout_completed",
                     "props": {"channel": ["chat", "email", "phone"][k % 3], "wait_minutes": k}})
    seed(live_server, rows)
    full = report(live_server, "?from=2026-03-02&to=2026-03-08")
    assert full["source"] == "rollup"
    in_week = [r["score"] for r in rows if r["day"] < 7]
    assert full["score"]["n"] == len(in_week) == full["funnel"]["answered"]
    # The same range as date-times not on midnights takes the report columns; same numbers.
    base = report(live_server, "?from=2026-03-02T00:00:00Z&to=2026-03-08T23:59:59Z")
    assert base["source"] == "columns" and base["score"] == full["score"] and base["funnel"] == full["funnel"]
    fr = report(live_server, "?locale=fr")
    assert fr["score"]["n"] == len([r for r in rows if r["locale"] == "fr"])
    assert fr["funnel"]["events_matched"] is None  # events have no locale
    b = report(live_server, "?variant=b")
    assert b["score"]["n"] == 20
    chat = report(live_server, "?properties.channel=chat")
    assert chat["source"] == "columns"
    assert chat["score"] == pure_score("ces7", [r["score"] for r in rows if r["props"]["channel"] == "chat"]).as_dict()
    assert chat["funnel"]["events_matched"] == chat["funnel"]["issued"] == 14
    waited = report(live_server, "?properties.wait_minutes[gte]=30&properties.channel[ne]=email")
    expected = [r["score"] for r in rows if r["props"]["wait_minutes"] >= 30 and r["props"]["channel"] != "email"]
    assert waited["score"]["n"] == len(expected)
    inn = report(live_server, "?properties.channel[in]=chat,phone")
    assert inn["score"]["n"] == len([r for r in rows if r["props"]["channel"] in ("chat", "phone")])
    triggers = {t["event_name"]: t["id"] for t in live_server.services.storage.all("select id, event_name from triggers")}
    tk = report(live_server, f"?trigger={triggers['ticket_closed']}")
    assert tk["score"]["n"] == 10 and len(tk["by_touchpoint"]) == 1
    # Drivers: rollup (default buckets) and base (custom buckets, or with a property filter) agree.
    d1 = report(live_server, "?driver=wait_minutes")["drivers"]["values"]
    d2 = report(live_server, "?driver=wait_minutes&properties.wait_minutes[exists]=true")["drivers"]["values"]
    assert sorted(d1, key=lambda v: v["value"]) == sorted(d2, key=lambda v: v["value"])
    custom = report(live_server, "?driver=wait_minutes&buckets=0,10,20")["drivers"]["values"]
    assert {v["value"]: v["n"] for v in custom} == {"0-9": 10, "10-19": 10, "20+": 20}
    text = report(live_server, "?driver=channel")["drivers"]["values"]
    assert {v["value"] for v in text} == {"chat", "email", "phone"} and all(v["kind"] == "text" for v in text)


def test_rollup_refreshes_incrementally(live_server: LiveServer) -> None:
    seed(live_server, [{"user": "a", "score": 7}])
    assert report(live_server)["score"]["n"] == 1
    seed(live_server, [{"user": "b", "score": 1}, {"user": "c", "score": 2}])
    body = report(live_server)
    assert body["score"]["n"] == 3 and body["score"]["distribution"]["1"] == 1


def test_expired_prompts_are_expired_before_counting(live_server: LiveServer) -> None:
    now = live_server.clock()
    seed(live_server, [{"user": "late", "status": "delivered", "day": -1000, "expires": now - 10}])
    f = report(live_server)["funnel"]
    assert f["expired"] == 1 and f["open"] == 0


def test_comments_newest_first_searchable_paginated(live_server: LiveServer) -> None:
    seed(live_server, [{"user": f"u{k}", "day": k, "score": k % 7 + 1,
                        "comment": f"{'Slow delivery' if k % 2 else 'fine'} #{k}"} for k in range(12)]
         + [{"user": "nc", "score": 3}])
    path = f"/api/v1/surveys/{live_server.survey_id}/comments"
    status, body = live_server.admin("GET", path + "?page_size=5")
    assert status == 200 and body["total"] == 12
    assert [c["comment"] for c in body["comments"]][:2] == ["Slow delivery #11", "fine #10"]
    status, page3 = live_server.admin("GET", path + "?page_size=5&page=3")
    assert [c["comment"] for c in page3["comments"]] == ["Slow delivery #1", "fine #0"]
    status, found = live_server.admin("GET", path + "?q=SLOW")
    assert found["total"] == 6 and all("Slow" in c["comment"] for c in found["comments"])
    assert {"score", "created_at", "user_id", "trigger_id"} <= set(found["comments"][0])


def test_at_risk_latest_answer_thresholds_and_follow_up(live_server: LiveServer) -> None:
    seed(live_server, [
        {"user": "recovered", "day": 0, "score": 1}, {"user": "recovered", "day": 3, "score": 7},
        {"user": "fell", "day": 0, "score": 7}, {"user": "fell", "day": 3, "score": 2, "comment": "took ages",
                                                 "props": {"order": "A-17"}},
        {"user": "border", "day": 2, "score": 4}, {"user": "happy", "day": 1, "score": 6},
    ])
    path = f"/api/v1/surveys/{live_server.survey_id}/at-risk"
    status, body = live_server.admin("GET", path)
    assert status == 200 and body["high_effort_max"] == 3
    assert [u["user_id"] for u in body["users"]] == ["fell"]
    user = body["users"][0]
    assert user["score"] == 2 and user["comment"] == "took ages"
    assert user["event"]["name"] == "checkout_completed" and user["event"]["properties"] == {"order": "A-17"}
    status, wider = live_server.admin("GET", path + "?high_effort_max=4")
    assert [u["user_id"] for u in wider["users"]] == ["fell", "border"]
    status, done = live_server.admin("POST", f"/api/v1/answers/{user['answer_id']}/follow-up", {})
    assert status == 200 and done["followed_up_at"]
    assert live_server.admin("GET", path)[1]["users"] == []
    status, followed = live_server.admin("GET", path + "?followed_up=true")
    assert [u["user_id"] for u in followed["users"]] == ["fell"] and followed["users"][0]["followed_up_at"]
    status, undone = live_server.admin("POST", f"/api/v1/answers/{user['answer_id']}/follow-up", {"followed_up": False})
    assert undone["followed_up_at"] is None
    assert live_server.admin("POST", "/api/v1/answers/999999/follow-up", {})[0] == 404


def test_dismissed_prompt_changes_funnel_not_score(live_server: LiveServer) -> None:
    """End to end: real events API and websocket; a dismissal moves the funnel, never the score."""
    def ask(user: str) -> tuple:
        status, body = live_server.post_events({"user_id": user, "name": "checkout_completed"})
        assert status == 200 and body["results"][0]["decision"] == "prompt", body
        tab = live_server.ws(user)
        prompt = tab.expect("prompt")
        tab.send({"type": "shown", "prompt": prompt["prompt"]["id"], "id": "s"})
        tab.expect("ack")
        return tab, prompt["prompt"]["id"]

    tab, pid = ask("alice")
    tab.send({"type": "answer", "prompt": pid, "score": 6, "id": "a"})
    assert tab.expect("ack")["status"] == "answered"
    before = report(live_server)
    tab2, pid2 = ask("bob")
    tab2.send({"type": "dismiss", "prompt": pid2, "id": "d"})
    assert tab2.expect("ack")["status"] == "dismissed"
    after = report(live_server)
    assert after["score"] == before["score"] and after["score"]["n"] == 1
    assert (before["funnel"]["dismissed"], after["funnel"]["dismissed"]) == (0, 1)
    assert after["funnel"]["shown"] == before["funnel"]["shown"] + 1
    assert after["funnel"]["response_rate"] == 50.0 and before["funnel"]["response_rate"] == 100.0
    assert after["funnel"]["events_matched"] == 2


@pytest.mark.parametrize("query, field", [
    ("?from=2026-03-10&to=2026-03-01", "to"),
    ("?from=yesterday", "from"),
    ("?properties.channel[like]=chat", "properties.channel[like]"),
    ("?properties.wait[gt]=soon", "properties.wait[gt]"),
    ("?interval=hour", "interval"),
    ("?buckets=5,1", "buckets"),
    ("?trigger=x", "trigger"),
    ("?colour=blue", "colour"),
])
def test_report_bad_input_names_the_field(live_server: LiveServer, query: str, field: str) -> None:
    status, body = live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/report{query}")
    assert status == 400, body
    assert field in body["error"]["fields"]


def test_lists_bad_input_unknown_survey_and_auth(live_server: LiveServer) -> None:
    sid = live_server.survey_id
    status, body = live_server.admin("GET", f"/api/v1/surveys/{sid}/comments?page_size=201")
    assert status == 400 and "page_size" in body["error"]["fields"]
    status, body = live_server.admin("GET", f"/api/v1/surveys/{sid}/at-risk?high_effort_max=9")
    assert status == 400 and "high_effort_max" in body["error"]["fields"]
    status, body = live_server.admin("GET", "/api/v1/surveys/9999/report")
    assert status == 404 and "survey_id" in body["error"]["fields"]
    # A site's secret key is not an admin token.
    assert live_server.get(f"/api/v1/surveys/{sid}/report")[0] == 401


def test_compare_two_periods_and_segments(live_server: LiveServer) -> None:
    rows = [{"user": f"w1-{k}", "day": k % 5, "score": 7 if k < 18 else 2, "props": {"channel": "web"}} for k in range(20)]
    rows += [{"user": f"w2-{k}", "day": 7 + k % 5, "score": 7 if k < 4 else 2, "props": {"channel": "chat"}}
             for k in range(20)]
    rows += [{"user": "dis", "day": 8, "status": "dismissed"}]
    seed(live_server, rows)
    status, body = live_server.admin(
        "GET", f"/api/v1/surveys/{live_server.survey_id}/compare"
               "?a.from=2026-03-02&a.to=2026-03-08&b.from=2026-03-09&b.to=2026-03-15")
    assert status == 200, body
    a, b, d = body["a"], body["b"], body["difference"]
    assert (a["n"], a["headline"], b["n"], b["headline"]) == (20, 90.0, 20, 20.0)  # the dismissal counts nowhere
    assert d["difference"] == -70.0 and d["significant"] is True
    assert d["ci"]["low"] < -70.0 < d["ci"]["high"] < 0
    # A segment against itself: no difference, not significant.
    status, same = live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/compare"
                                            "?a.properties.channel=chat&b.properties.channel=chat")
    assert status == 200 and same["difference"]["difference"] == 0.0 and same["difference"]["significant"] is False
    assert same["a"]["n"] == 20


@pytest.mark.parametrize("query,field", [("", "a"), ("?a.from=yesterday", "a.from"), ("?a.colour=red", "a.colour"),
                                         ("?b.from=2026-03-09&b.to=2026-03-01", "b.to")])
def test_compare_bad_input_names_the_parameter(live_server: LiveServer, query: str, field: str) -> None:
    status, body = live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/compare{query}")
    assert status == 400 and field in body["error"]["fields"], body
