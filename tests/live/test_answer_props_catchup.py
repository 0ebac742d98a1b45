"""A large installation upgraded to `answer_props`: the migration only makes the tables, the server
starts and serves at once, reports stay exact while the background job copies the answers (they
read the base tables), and the job converges — also with two jobs on one database and an erasure
in the middle (docs/reports.md, "Fast filters")."""
from __future__ import annotations

import json
import random
import time
from typing import Any

from ces.answer_props_job import AnswerPropsJob
from ces.storage import Storage
from ces.storage import answer_props
from ces.storage.reports import Reports
from ces.testing import LiveServer, http

DAY = 86400
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
MANY = answer_props.SMALL_BACKLOG + 4_000  # more than a report copies itself
REPORT = "interval=week&driver=transfers"
FILTERS = ("properties.channel=chat", "properties.transfers[gte]=2", "properties.channel[ne]=chat&from=2026-01-05",
           "properties.vip=true&trigger={t}")


def seed_many(database: str, answers: int, users: int = 500) -> None:
    """An installation's history written through the product's Storage, as it stood before
    answer_props existed: events, closed prompts and answers, nothing copied."""
    storage = Storage(database, "OFF")
    storage.migrate()
    now = T0 + 400 * DAY
    site = storage.create_site("big", now)
    survey = storage.create_survey(site["id"], now, name="big", metric="ces7")
    trigger = storage.create_trigger(site["id"], now, name="ticket", event_name="ticket_closed",
                                     survey_id=survey["id"])["id"]
    rng = random.Random(5)
    chunk = 6_000
    for start in range(0, answers, chunk):
        rows = range(start, min(answers, start + chunk))
        facts = []
        for i in rows:
            transfers = min(int(rng.expovariate(1.0)), 6)
            props = {"channel": rng.choice(("chat", "email", "phone")), "transfers": transfers,
                     "vip": rng.random() < 0.2}
            easy = rng.random() < (0.3 if transfers >= 2 else 0.7)
            facts.append((i, f"u{rng.randrange(users)}", T0 + rng.random() * 90 * DAY, json.dumps(props),
                          rng.choice((5, 6, 7)) if easy else rng.choice((1, 2, 3))))
        with storage.write() as db:
            conn = db.conn
            conn.executemany(
                "insert into events (site_id, event_id, user_id, name, properties, timestamp, received_at, source, "
                "decision, reason, trigger_id, prompt_id) values (?,?,?,?,?,?,?,?,?,?,?,?)",
                [(site["id"], f"big{i}", user, "ticket_closed", props, t, t, "backend", "prompt", "prompted",
                  trigger, f"p_big{i}") for i, user, t, props, _s in facts])
            first = conn.execute("select min(id) from events where event_id = ?", [f"big{rows[0]}"]).fetchone()[0]
            conn.executemany(
                "insert into prompts (id, site_id, user_id, survey_id, trigger_id, event_row, status, locale, "
                "created_at, deliver_after, expires_at, delivered_at, shown_at, closed_at) "
                "values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(f"p_big{i}", site["id"], user, survey["id"], trigger, first + k, "answered", "en", t, t,
                  t + 7 * DAY, t + 1, t + 2, t + 10) for k, (i, user, t, _p, _s) in enumerate(facts)])
            conn.executemany(
                "insert into answers (prompt_id, site_id, survey_id, user_id, score, created_at) values (?,?,?,?,?,?)",
                [(f"p_big{i}", site["id"], survey["id"], user, score, t + 10) for i, user, t, _p, score in facts])
    Reports(storage).rebuild_funnel_rollup()  # prompts were inserted already closed
    storage.close()


def copied(storage: Storage) -> int:
    return storage.one("select count(*) as n from answer_props where key = ''")["n"]  # type: ignore[index]


def reports(server: LiveServer, trigger: int) -> dict[str, Any]:
    out = {}
    for f in FILTERS:
        f = f.format(t=trigger)
        status, body = server.admin("GET", f"/api/v1/surveys/{server.survey_id}/report?{REPORT}&{f}")
        assert status == 200, body
        out[f] = {k: body[k] for k in ("score", "funnel", "over_time", "by_touchpoint", "drivers", "source")}
        out[f]["meta"] = body["meta"]
    return out


def test_a_large_installation_starts_at_once_and_its_reports_stay_exact(database) -> None:
    seed_many(database, MANY)
    started = time.monotonic()
    # The job does not run here (interval 0): the catch-up is driven below, step by step.
    server = LiveServer(database, ANSWER_PROPS_INTERVAL=0)
    try:
        status, health = http("GET", server.url + "/healthz")
        assert time.monotonic() - started < 10  # the migration copied nothing (it took 89 s at 1M answers)
        assert status == 200 and health["answer_props"] == {"caught_up": False, "answers_behind": MANY,
                                                            "last_copied_answer_id": 0}
        storage = server.services.storage
        trigger = storage.one("select id from triggers where event_name = 'ticket_closed'")["id"]  # type: ignore[index]
        server.survey_id = storage.one("select id from surveys where name = 'big'")["id"]  # type: ignore[index]

        during = reports(server, trigger)
        assert copied(storage) == 0  # no report copied the backlog on its request
        for body in during.values():
            assert body["meta"]["answer_props"] == {"caught_up": False, "answers_behind": MANY}
            assert body["source"] == "base" and body["score"]["n"] > 0
        status, err = server.admin("GET", f"/api/v1/surveys/{server.survey_id}/drivers")
        assert status == 503 and err["error"]["code"] == "catching_up", err

        # Half-way: some chunks copied, the rest behind; an erasure in the middle takes a user's
        # answers out of both halves.
        assert answer_props.copy_chunk(storage, 3_000) == 3_000
        big_site = storage.one("select id from sites where name = 'big'")["id"]  # type: ignore[index]
        ids = [r["id"] for r in storage.all("select id from answers where user_id = 'u7' order by id")]
        assert ids[0] <= 3_000 < ids[-1]
        assert server.admin("DELETE", f"/api/v1/users/u7?site={big_site}")[0] == 200
        half = reports(server, trigger)
        assert all(b["meta"]["answer_props"]["caught_up"] is False for b in half.values())
        assert all(half[f]["score"]["n"] < during[f]["score"]["n"] for f in half)

        AnswerPropsJob(storage, interval=0, chunk=3_000, pause=0).run_once()  # what the job does in the background
        n_answers = storage.one("select count(*) as n from answers")["n"]  # type: ignore[index]
        assert copied(storage) == n_answers == MANY - len(ids)
        after = reports(server, trigger)
        for f, body in after.items():
            assert body["meta"]["answer_props"] == {"caught_up": True, "answers_behind": 0}
            # The same numbers, now from the report columns the job also built.
            assert body["source"] == "columns", (f, body["source"])
            same = lambda b: {k: v for k, v in b.items() if k not in ("meta", "source")}  # noqa: E731
            assert same(body) == same(half[f]), f
        assert http("GET", server.url + "/healthz")[1]["answer_props"]["caught_up"] is True
        # The ranking works again, and its rollup counts every answer exactly once.
        status, ranked = server.admin("GET", f"/api/v1/surveys/{server.survey_id}/drivers")
        assert status == 200, ranked
        _, exact = server.admin("GET", f"/api/v1/surveys/{server.survey_id}/drivers?properties.transfers[exists]=true")
        assert ranked["properties"] == exact["properties"]
        assert {p["key"]: p["n"] for p in ranked["properties"]} == {"channel": n_answers, "transfers": n_answers,
                                                                    "vip": n_answers}
    finally:
        server.stop()


def test_the_job_started_with_the_server_converges_and_two_never_copy_twice(database) -> None:
    seed_many(database, MANY)
    # Two servers on one database (two processes' worth of connections), each with its job.
    one = LiveServer(database, ANSWER_PROPS_INTERVAL=0.2)
    two = LiveServer(database, ANSWER_PROPS_INTERVAL=0.2)
    try:
        assert one.app.extensions["ces_answer_props"]._thread is not None
        deadline = time.monotonic() + 120
        while not http("GET", one.url + "/healthz")[1]["answer_props"]["caught_up"]:
            assert time.monotonic() < deadline, "the background copy did not converge"
            time.sleep(0.2)
        storage = one.services.storage
        n = storage.one("select count(*) as n from answers")["n"]  # type: ignore[index]
        assert copied(storage) == n == MANY
        assert storage.one("select count(*) as n from (select answer_id, key from answer_props "
                           "group by answer_id, key having count(*) > 1) d")["n"] == 0  # type: ignore[index]
        assert storage.one("select count(*) as n from answer_props")["n"] == 4 * MANY  # type: ignore[index]
        total = storage.one("select sum(n) as n from report_props_blocks where key = 'channel'")["n"]  # type: ignore[index]
        assert total == MANY
        # Each job counts a chunk just after its commit, which /healthz may see first: wait for the
        # counts, then they must add up to every answer exactly once between the two.
        jobs = [s.app.extensions["ces_answer_props"] for s in (one, two)]
        while sum(j.copied for j in jobs) < MANY and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sum(j.copied for j in jobs) == MANY
    finally:
        for s in (one, two):
            s.app.extensions["ces_answer_props"].stop()
        one.stop()
        two.stop()


def test_ces_drivers_finishes_the_copy_itself(database) -> None:
    """The operator's command asks for the ranking now: it copies what is behind first, and says so."""
    import subprocess
    import sys
    from pathlib import Path
    seed_many(database, MANY)
    ces = str(Path(sys.executable).with_name("ces"))
    run = subprocess.run([ces, "drivers", "1", "--db", database, "--json"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert f"Copying {MANY} answers' properties first" in run.stderr
    ranked = json.loads(run.stdout)
    assert {p["key"]: p["n"] for p in ranked["properties"]} == {"channel": MANY, "transfers": MANY, "vip": MANY}
    assert ranked["properties"][0]["key"] == "transfers"  # the planted effect
