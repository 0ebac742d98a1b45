"""Retention with the test clock through the real admin API, the CLI and the background job: old
events go, old answers are anonymised (or deleted), reports over the past stay as they were."""
from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from _privacy import DAY, cells_containing, reports, reports_from_scratch, seed_rows, tables
from ces.retention import RetentionJob
from ces.testing import LiveServer, http

CES = str(Path(sys.executable).with_name("ces"))


def _set(server: LiveServer, policy: dict) -> dict:
    status, body = server.admin("PUT", f"/api/v1/sites/{server.site['id']}/retention", policy)
    assert status == 200, body
    return body


def _run(server: LiveServer) -> dict:
    status, body = server.admin("POST", f"/api/v1/sites/{server.site['id']}/retention/run")
    assert status == 200, body
    return body


def _answer_live(server: LiveServer, user: str, score: int, comment: str) -> None:
    status, body = server.post_events({"user_id": user, "name": "ticket_closed",
                                       "properties": {"channel": "phone", "wait_minutes": 12}})
    assert body["results"][0]["decision"] == "prompt", body
    tab = server.ws(user)
    pid = tab.expect("prompt")["prompt"]["id"]
    for msg in ({"type": "shown", "prompt": pid, "id": "s"},
                {"type": "answer", "prompt": pid, "score": score, "comment": comment, "id": "a"}):
        tab.send(msg)
        tab.expect("ack")
    tab.close()


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).date().isoformat()


def _past(server: LiveServer, start: float, end: float) -> tuple[str, ...]:
    """Report queries over [start, end]: whole days (the rollups) and off-midnight (the base tables)."""
    a, b = _day(start - DAY), _day(end + DAY)
    return (f"?from={a}&to={b}", f"?from={a}&to={b}&interval=day&driver=channel",
            f"?from={a}T00:00:01Z&to={b}T23:00:00Z&driver=wait_minutes")


def _old_data(server: LiveServer) -> tuple[float, float]:
    """Alice answers live (traits, comment); users o0..o5 get prompts in every status; all of it
    now; then the clock moves 200 days on. (first, last) time of that data."""
    start = server.clock()
    assert http("POST", f"{server.url}/api/v1/identify", {"user_id": "alice-old", "traits": {"plan": "pro"}},
                server.site["secret_key"])[0] == 200
    _answer_live(server, "alice-old", 2, "waited for ages")
    for k in range(6):
        seed_rows(server, f"o{k}-old", start - 20 * DAY + k * 3600, score=1 + k, comment=f"comment number {k}")
    assert server.post_events({"user_id": "alice-old", "name": "page_viewed"})[1]["results"][0]["reason"] == "no_trigger"
    end = server.clock()
    return start - 20 * DAY, end


def test_anonymise_old_answers_delete_old_events_reports_unchanged(live_server: LiveServer) -> None:
    s = live_server
    assert _set(s, {"events_days": 90, "answers": "anonymise", "answers_days": 180}) == \
        {"events_days": 90, "answers": "anonymise", "answers_days": 180}
    first, last = _old_data(s)
    queries = _past(s, first, last)
    comments_before = s.services.storage.all("select score, comment from answers order by id")
    s.clock.advance(200 * DAY)
    _answer_live(s, "bob-new", 6, "bob-new is happy")  # recent: must stay as it is
    before = reports(s, queries)  # (the prompts open 200 days ago have expired since)
    recent = {t: [r for r in rows if any(isinstance(c, str) and "bob-new" in c for c in r)]
              for t, rows in tables(s.db_path).items()}

    done = _run(s)
    assert done["answers_anonymised"] == 7 and done["events_deleted"] >= 6 * 5 + 1
    assert done["prompts_deleted"] >= 6 * 3 and done["traits_deleted"] == 1
    # Nothing old still names anyone; the old events left are the answered prompts' own.
    assert cells_containing(s.db_path, ["alice-old", *[f"o{k}-old" for k in range(6)]]) == []
    storage = s.services.storage
    old_events = storage.all("select e.user_id, p.status from events e left join prompts p on p.id = e.prompt_id "
                             "where e.received_at < ?", [s.clock() - 90 * DAY])
    assert old_events and all(e["status"] == "answered" and e["user_id"].startswith("anonymised-") for e in old_events)
    tokens = [r["user_id"] for r in storage.all("select user_id from answers where anonymised_at is not null")]
    assert len(tokens) == len(set(tokens)) == 7  # one token per answer: old answers cannot be linked
    assert storage.one("select count(*) as n from users where user_id like '%-old'")["n"] == 0
    # Scores and comments kept (the comment's text is the customer's words, kept by design).
    assert storage.all("select score, comment from answers where anonymised_at is not null order by id") == \
        comments_before
    # Reports over the past: the same, on the rollups and on the base tables.
    after = reports(s, queries)
    for q in queries[:2]:
        assert after[q] == before[q], q
    for section in ("score", "over_time", "by_touchpoint", "drivers"):
        assert after[queries[2]][section] == before[queries[2]][section], section
    # Recent rows untouched; a second run has nothing left to do.
    assert {t: [r for r in rows if any(isinstance(c, str) and "bob-new" in c for c in r)]
            for t, rows in tables(s.db_path).items()} == recent
    assert not any(_run(s)[k] for k in ("answers_anonymised", "events_deleted", "prompts_deleted", "traits_deleted"))


def test_delete_mode_takes_old_answers_out_of_the_reports(live_server: LiveServer) -> None:
    s = live_server
    _set(s, {"answers": "delete", "answers_days": 100})
    first, last = _old_data(s)
    s.clock.advance(200 * DAY)
    _answer_live(s, "bob-new", 6, "recent")
    done = _run(s)
    assert done["answers_deleted"] == 7
    assert s.services.storage.one("select count(*) as n from answers")["n"] == 1
    after = reports(s)
    assert after[""]["score"]["n"] == 1
    # The score rollups were corrected, not just the base tables (the funnel keeps counting the
    # old unanswered prompts retention removed: counts are about nobody).
    scratch = reports_from_scratch(s)
    for q in after:
        for section in ("score", "over_time", "by_touchpoint", "drivers"):
            assert scratch[q][section] == after[q][section], (q, section)


def test_keep_mode_and_the_fatigue_wait_protect_rows(live_server: LiveServer) -> None:
    s = live_server
    assert _set(s, {}) == {"events_days": 90, "answers": "keep", "answers_days": 365}  # the defaults
    status, _ = s.admin("PUT", f"/api/v1/sites/{s.site['id']}/fatigue", {"recontact_wait": 400 * DAY})
    assert status == 200
    _old_data(s)
    s.clock.advance(200 * DAY)
    done = _run(s)
    assert done["events_deleted"] > 0 and "answers_anonymised" not in done
    # Answers kept with their user; prompts still within the 400-day recontact wait kept.
    assert s.services.storage.one("select count(*) as n from answers where user_id = 'alice-old'")["n"] == 1
    assert done["prompts_deleted"] == 0
    assert s.post_events({"user_id": "alice-old", "name": "checkout_completed"})[1]["results"][0]["reason"] \
        == "recontact_wait"


@pytest.mark.parametrize("body, field", [
    ({"events_days": 0}, "events_days"), ({"events_days": -3}, "events_days"),
    ({"events_days": "ninety"}, "events_days"), ({"events_days": 1.5}, "events_days"),
    ({"events_days": True}, "events_days"), ({"answers_days": 0}, "answers_days"),
    ({"answers": "shred"}, "answers"), ({"keep_forever": 1}, "keep_forever"),
])
def test_bad_retention_values_are_refused_naming_the_field(live_server: LiveServer, body: dict, field: str) -> None:
    s = live_server
    path = f"/api/v1/sites/{s.site['id']}/retention"
    _set(s, {"events_days": 30})
    status, err = s.admin("PUT", path, body)
    assert status == 400 and field in err["error"]["fields"], err
    assert s.admin("GET", path)[1]["events_days"] == 30  # nothing changed
    assert s.admin("GET", "/api/v1/sites/999/retention")[0] == 404


def test_cli_retention_run_and_set(live_server: LiveServer) -> None:
    s = live_server
    seed_rows(s, "carl-old", time.time() - 150 * DAY, statuses=("dismissed", "expired"))
    key = s.site["site_key"]
    run = subprocess.run([CES, "retention", "set", "--site", key, "--events-days", "0", "--db", s.db_path],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "--events-days" in run.stderr
    run = subprocess.run([CES, "retention", "set", "--site", key, "--events-days", "120", "--db", s.db_path],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and '"events_days": 120' in run.stdout, run.stderr
    run = subprocess.run([CES, "retention", "run", "--db", s.db_path], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "events deleted 2" in run.stdout and "prompts deleted 2" in run.stdout
    assert cells_containing(s.db_path, ["carl-old"]) == []
    status, log = s.admin("GET", "/api/v1/audit?action=site.retention.")
    assert [e["action"] for e in log["items"]] == ["site.retention.run", "site.retention.update"]
    assert all(e["actor"]["kind"] == "cli" for e in log["items"])


def test_background_job_applies_the_policy(live_server: LiveServer) -> None:
    s = live_server
    seed_rows(s, "dana-old", s.clock() - 100 * DAY, statuses=("dismissed",))
    job = RetentionJob(s.services.storage, s.clock, interval=0.2, first_run=0.05, pause=0.0)
    job.start()
    try:
        # Its event and its prompt (dismissed 100 days ago) go; nothing else names her.
        s.wait_for(lambda: cells_containing(s.db_path, ["dana-old"]) == [], timeout=10)
    finally:
        job.stop()
    assert s.services.storage.one("select count(*) as n from events")["n"] == 0
