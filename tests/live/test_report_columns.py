"""Reports from the report columns (storage/report_columns.py) equal the base tables' (and the
paths before the columns) for every filter shape — two filters, `ne`, `exists`, nested keys,
numbers, booleans, ranges off the bucket edges and off midnight, other time zones, custom
buckets, nested drivers — with segments small enough that every report mixes stored segments, gaps and live rows; also after an erasure (its
segments are deleted by the SQL triggers, the gaps read live, then sealed again), after new
answers and expiries through the product, and after the retention deletes old answers."""
from __future__ import annotations

import json
import random
import time
from typing import Any

import pytest

from ces.storage import report_columns
from ces.storage.reports import Reports
from ces.testing import LiveServer, http

SEGMENT = 64
SECTIONS = ("score", "over_time", "by_touchpoint", "drivers", "funnel")
DAY = 86400
STATUSES = ("answered",) * 6 + ("dismissed", "dismissed", "expired", "cancelled", "shown", "issued", "delivered")
LONG = "x" * 70  # longer than a driver value (64)


def seed(server: LiveServer, n: int = 900, seed_value: int = 3, prefix: str = "pr") -> dict[str, Any]:
    """Events (with and without a prompt), prompts of every status and answers, written through
    the server's Storage over the last 60 days (whole days and hours apart, so day edges matter)."""
    storage = server.services.storage
    rng = random.Random(seed_value)
    now = server.clock()
    triggers = {t["event_name"]: t["id"] for t in storage.all("select id, event_name from triggers")}
    names = [name for name in ("checkout_completed", "ticket_closed") if name in triggers]
    with storage.write() as db:
        for i in range(n):
            t = now - rng.random() * 60 * DAY
            name = names[i % len(names)]
            props: dict[str, Any] = {"channel": rng.choice(("chat", "email", "phone", "web")),
                                     "transfers": rng.choice((0, 0, 1, 1, 2, 3, 4, 5, 7, 12, 2.5, -1)),
                                     "vip": rng.random() < 0.3, "wait": round(rng.expovariate(0.2), 2)}
            if i % 5 == 0:
                props["extra"] = {"level": i % 3}
            if i % 7 == 0:
                props["note"] = LONG if i % 2 else "short note"
            if i % 11 == 0:
                props["channel"] = 2  # a number where others have text
            if i % 13 == 0:
                del props["transfers"]
            prompted = i % 9 != 0  # some events asked nothing
            status = rng.choice(STATUSES) if prompted else None
            pid = f"p_{prefix}{i}" if prompted else None
            eid = db.execute(
                "insert into events (site_id, event_id, user_id, name, properties, timestamp, received_at, source, "
                "decision, reason, trigger_id, prompt_id) values (?,?,?,?,?,?,?,?,?,?,?,?) returning id",
                [server.site["id"], f"{prefix}{i}", f"u{i % 40}", name, json.dumps(props), t, t, "backend",
                 "prompt" if prompted else "skip", "prompted" if prompted else "quota", triggers[name], pid]).fetchone()[0]
            if not prompted:
                continue
            open_ = status in ("shown", "issued", "delivered")
            db.execute(
                "insert into prompts (id, site_id, user_id, survey_id, trigger_id, event_row, status, locale, "
                "created_at, deliver_after, expires_at, delivered_at, shown_at, closed_at) "
                "values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [pid, server.site["id"], f"u{i % 40}", server.survey_id, triggers[name], eid, status, "en", t, t,
                 t + (3 * DAY if open_ and i % 2 else 90 * DAY), t + 1 if status != "issued" else None,
                 t + 2 if status in ("answered", "dismissed", "shown") or i % 3 == 0 else None,
                 None if open_ else t + 30])
            if status == "answered":
                db.execute("insert into answers (prompt_id, site_id, survey_id, user_id, score, created_at) "
                           "values (?,?,?,?,?,?)", [pid, server.site["id"], server.survey_id, f"u{i % 40}",
                                                    rng.randint(1, 7), t + 30 + rng.random() * DAY])
    Reports(storage).rebuild_funnel_rollup()  # prompts were inserted already closed
    return triggers


def dates(server: LiveServer) -> tuple[str, str]:
    day = int(server.clock() // DAY)
    iso = lambda d: time.strftime("%Y-%m-%d", time.gmtime(d * DAY))  # noqa: E731
    return iso(day - 40), iso(day - 10)


def queries(server: LiveServer, triggers: dict[str, int]) -> list[str]:
    start, end = dates(server)
    t = triggers["ticket_closed"]
    return [
        "properties.channel=chat", "properties.channel[in]=chat,phone", "properties.transfers[gte]=2",
        "properties.transfers[gte]=3", "properties.transfers[lt]=5", "properties.transfers[lt]=0",
        "properties.wait[gte]=10", f"properties.channel=email&from={start}&to={end}",
        f"properties.transfers[gte]=2&trigger={t}", "properties.note=short%20note",
        "properties.transfers[gte]=4", "properties.transfers[gt]=2", "properties.transfers[lte]=2",
        "properties.transfers[lt]=2.5", "properties.transfers=2", "properties.transfers[in]=0,2,12",
        "properties.channel=2", "properties.vip=true", "properties.vip=1", f"properties.note={LONG}",
        "properties.channel[ne]=chat", "properties.extra[exists]=true", "properties.extra[exists]=false",
        "properties.extra.level[gte]=1", "properties.extra.level=1",
        "properties.channel=chat&properties.transfers[gte]=2",
        "properties.channel[ne]=chat&properties.vip[exists]=true",
        f"properties.channel[ne]=chat&trigger={t}",
        "properties.channel=chat&tz=Europe/Paris", f"properties.transfers[gt]=2.5&tz=America/New_York&from={start}&to={end}",
        f"properties.channel=chat&from={start}T06:00:00Z", f"from={start}T06:00:00Z&to={end}T18:30:00Z",
        "tz=Asia/Kathmandu", "properties.vip=true&buckets=0,2.5,10", "properties.channel=chat&driver=extra.level",
        "properties.wait[gte]=3.5&driver=wait&buckets=1,2,4,8",
    ]


def compare(server: LiveServer, triggers: dict[str, int]) -> int:
    """Each query's report against the base tables' (the same query with locale=en, which every
    prompt has: only the base tables answer a locale), and against the paths before the columns
    (`answer_props` and the base tables, matched events included); how many reports had answers."""
    with_answers = 0
    before = Reports.view
    for query in queries(server, triggers):
        if "driver=" not in query:
            query += "&driver=transfers"
        path = f"/api/v1/surveys/{server.survey_id}/report?interval=day&{query}"
        status, got = server.admin("GET", path)
        assert status == 200, (query, got)
        assert got["source"] == "columns", (query, got["source"])
        status, base = server.admin("GET", path + "&locale=en")
        assert status == 200 and base["source"] == "base", (query, base)
        for section in SECTIONS:
            a, b = got[section], base[section]
            if section == "funnel":  # with a locale the base tables do not count matched events
                assert a["events_matched"] >= a["issued"] - a["cancelled"] >= 0, query
                a = {k: v for k, v in a.items() if k != "events_matched"}
                b = {k: v for k, v in b.items() if k != "events_matched"}
            assert a == b, (query, section)
        Reports.view = lambda self, q, survey_id: None  # type: ignore[method-assign]
        try:
            status, old = server.admin("GET", path)
        finally:
            Reports.view = before  # type: ignore[method-assign]
        assert status == 200 and old["source"] == "base", (query, old)
        assert all(got[section] == old[section] for section in SECTIONS), query
        with_answers += got["score"]["n"] > 0
    return with_answers


def segments(storage: Any) -> dict[str, int]:
    return dict(storage.db.conn.execute("select kind, count(*) from report_segments group by kind").fetchall())


def seal_all(storage: Any) -> None:
    for _ in range(1000):  # bounded: each step seals at least one segment or reports nothing left
        if not report_columns.step(storage, 500):
            return
    raise AssertionError("the sealing did not finish")


def gaps(storage: Any) -> int:
    """Ranges between segments that a deletion left uncovered, over every owner."""
    conn = storage.db.conn
    owners = conn.execute("select distinct kind, owner from report_segments").fetchall()
    return sum(len(report_columns._open_ranges(report_columns._segments(conn, k, o))) - 1 for k, o in owners)


@pytest.fixture
def small_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_columns, "SEGMENT", SEGMENT)


def test_reports_from_columns_equal_the_base_tables(live_server: LiveServer, small_segments: None) -> None:
    server = live_server
    storage = server.services.storage
    triggers = seed(server, n=900)
    seal_all(storage)
    counts = segments(storage)
    # 900 matched events, ~360 answers, ~600 closed prompts: many segments of 64, some rows live.
    assert counts["events"] >= 900 // SEGMENT and counts["answers"] >= 4 and counts["prompts"] >= 8, counts
    assert compare(server, triggers) >= 25

    # An erasure: the SQL triggers delete the segments holding the user's rows; the reports read
    # those ranges live and stay exact; the job seals them again.
    before = sum(segments(storage).values())
    assert server.admin("DELETE", f"/api/v1/users/u3?site={server.site['id']}")[0] == 200
    assert sum(segments(storage).values()) < before
    assert gaps(storage) > 0
    assert compare(server, triggers) >= 25
    seal_all(storage)
    assert gaps(storage) == 0
    assert compare(server, triggers) >= 25

    # Answers, a dismissal and expiries through the product: the live rows, then sealed.
    for i, (channel, transfers, score) in enumerate((("chat", 3, 2), ("chat", 0, 7), ("phone", 2, 6))):
        status, body = server.post_events({"user_id": f"w{i}", "name": "ticket_closed",
                                           "properties": {"channel": channel, "transfers": transfers,
                                                          "extra": {"level": i}}})
        assert body["results"][0]["decision"] == "prompt", body
        tab = server.ws(f"w{i}", locale="en")
        prompt_id = tab.expect("prompt")["prompt"]["id"]
        tab.send({"type": "shown", "prompt": prompt_id, "id": "s"})
        tab.expect("ack")
        if i == 1:
            tab.send({"type": "dismiss", "prompt": prompt_id, "id": "d"})
            tab.expect("ack")
            continue
        tab.send({"type": "answer", "prompt": prompt_id, "score": score, "id": "a"})
        assert tab.expect("ack")["status"] == "answered"
    server.clock.advance(4 * DAY)  # the open prompts expiring in 3 days close as expired
    assert compare(server, triggers) >= 25
    seal_all(storage)
    assert compare(server, triggers) >= 25

    # The retention deletes the answers older than 30 days (their prompts and events with them).
    status, _ = server.admin("PUT", f"/api/v1/sites/{server.site['id']}/retention",
                             {"events_days": 3650, "answers": "delete", "answers_days": 30})
    assert status == 200
    status, ran = server.admin("POST", f"/api/v1/sites/{server.site['id']}/retention/run")
    assert status == 200, ran
    assert compare(server, triggers) >= 20
    seal_all(storage)
    assert gaps(storage) == 0
    assert compare(server, triggers) >= 20


def test_prompts_inserted_closed_after_the_walk_are_walked_in_again(live_server: LiveServer,
                                                                     small_segments: None) -> None:
    """No SQL trigger logs a prompt inserted already closed (the product inserts open ones): a seed
    or import calls Reports.rebuild_funnel_rollup(), which restarts the walk of the close log."""
    server = live_server
    storage = server.services.storage
    triggers = seed(server, n=300)
    seal_all(storage)
    assert report_columns.walk_done(storage.db.conn)
    assert compare(server, triggers) >= 25
    seed(server, n=300, seed_value=8, prefix="late")  # closed prompts inserted as they are; rebuilds
    assert not report_columns.walk_done(storage.db.conn)
    assert compare(server, triggers) >= 25  # the report walked them in (few) and counts them
    seal_all(storage)
    assert compare(server, triggers) >= 25


@pytest.mark.parametrize("seed_value", [11, 12])
def test_other_seeds(live_server: LiveServer, small_segments: None, seed_value: int) -> None:
    triggers = seed(live_server, n=500, seed_value=seed_value)
    seal_all(live_server.services.storage)
    assert compare(live_server, triggers) >= 25


def test_a_large_backlog_takes_the_other_paths(live_server: LiveServer, small_segments: None,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """More rows outside segments than a report reads live: the report is answered by the other
    paths (exact, slower) until the background job has sealed them, then by the columns."""
    server = live_server
    storage = server.services.storage
    seed(server, n=400)
    monkeypatch.setattr(report_columns, "LIVE_MAX", 100)
    path = f"/api/v1/surveys/{server.survey_id}/report?properties.channel[ne]=chat&driver=transfers"
    status, before = server.admin("GET", path)
    assert status == 200 and before["source"] == "base", before["source"]
    seal_all(storage)
    status, after = server.admin("GET", path)
    assert status == 200 and after["source"] == "columns", after["source"]
    for section in SECTIONS:
        assert after[section] == before[section], section


def test_ranking_fix_first_and_customers_under_filters_equal_the_paths_before(live_server: LiveServer, small_segments: None,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver ranking and fix first under a filter (every top-level property counted from the
    columns) equal the same from `answer_props`, the path before; the customers list (its answers
    found in the columns) equals the same from the base tables."""
    server = live_server
    triggers = seed(server, n=700)
    seal_all(server.services.storage)
    start, end = dates(server)
    shapes = ["properties.channel=chat", "properties.channel[ne]=chat&properties.vip[exists]=true",
              f"properties.transfers[gt]=1&from={start}T06:00:00Z&to={end}", "tz=Europe/Paris",
              f"trigger={triggers['ticket_closed']}&properties.extra.level[gte]=0"]
    paths = [f"/api/v1/surveys/{server.survey_id}/{what}?min_n=5&{shape}" for what in ("drivers", "fix-first")
             for shape in shapes]
    # The customers with a high-effort answer under the same filters (their answers found in the columns).
    paths += [f"/api/v1/surveys/{server.survey_id}/customers?page_size=200&followed_up=any&{shape}" for shape in shapes]
    calls = []
    counts = report_columns.SurveyView.property_counts
    monkeypatch.setattr(report_columns.SurveyView, "property_counts",
                        lambda self, q, by_trigger: calls.append(q) or counts(self, q, by_trigger))
    found = []
    answer_ids = report_columns.SurveyView.answer_ids
    monkeypatch.setattr(report_columns.SurveyView, "answer_ids",
                        lambda self, q, max_score=None: found.append(q) or answer_ids(self, q, max_score))
    got = {}
    for path in paths:
        status, body = server.admin("GET", path)
        assert status == 200, (path, body)
        got[path] = body
    assert len(calls) == 2 * len(shapes)  # each ranking and fix first counted from the columns
    assert all(got[p]["total"] > 0 for p in paths if "/customers?" in p)
    assert len(found) == len(shapes)  # each customers list from the columns
    from ces.storage.reports import Reports
    monkeypatch.setattr(Reports, "view", lambda self, q, survey_id: None)
    for path in paths:
        status, body = server.admin("GET", path)
        assert status == 200, (path, body)
        assert body == got[path], path
    ranked = [got[p] for p in paths if "/drivers?" in p]
    assert all(r["properties"] for r in ranked) and sum(r["tests"] for r in ranked) > 10


def test_the_job_started_with_the_server_seals_and_healthz_says_so(database: str, small_segments: None) -> None:
    """The background job (started with the server) seals what no report asked for, and /healthz
    says where it stands."""
    server = LiveServer(database, ANSWER_PROPS_INTERVAL=0.2)
    try:
        seed(server, n=400)
        deadline = time.monotonic() + 60
        while True:
            status, health = http("GET", server.url + "/healthz")
            assert status == 200
            cols = health["report_columns"]
            if cols is not None and cols["caught_up"] and segments(server.services.storage).get("prompts"):
                break
            assert time.monotonic() < deadline, health
            time.sleep(0.1)
        assert cols["prompts_walked"] is True and cols["owners_waiting"] == 0
        counts = segments(server.services.storage)
        assert counts["events"] >= 400 // SEGMENT and counts["answers"] >= 1, counts
    finally:
        server.stop()
