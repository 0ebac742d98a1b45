"""The site's time zone, live: quota days and report weeks across the March and October clock
changes in Europe/Paris and Europe/Bucharest (the server's test clock moved to each instant),
`?tz=` on every report endpoint, export dates, and bad input."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ces.testing import LiveServer, http

from asking_support import answer, local, move_to, ok, policy, send, survey, time_zone, trigger

# The Sundays of 2027's clock changes (the last Sunday of March and of October, in the EU).
CHANGES = [("Europe/Paris", date(2027, 3, 28)), ("Europe/Paris", date(2027, 10, 31)),
           ("Europe/Bucharest", date(2027, 3, 28)), ("Europe/Bucharest", date(2027, 10, 31))]


def _at(zone: str, day: date, hour: int, minute: int) -> float:
    return local(zone, day.year, day.month, day.day, hour, minute)


@pytest.mark.parametrize(("zone", "sunday"), CHANGES, ids=[f"{z}-{d:%b}" for z, d in CHANGES])
def test_quota_day_is_the_sites_calendar_day_across_the_clock_change(live_server: LiveServer, zone: str,
                                                                     sunday: date) -> None:
    """A daily quota of one prompt: the day begins at local midnight, and the change day has its
    23 or 25 hours (a day cut at UTC midnight, or 24 h after the last one, fails here)."""
    time_zone(live_server, zone)
    policy(live_server)  # every user-level layer off: only the quota decides
    sid = survey(live_server, "ces7", quota={"max_prompts_per_day": 1})
    trigger(live_server, "paid", sid)
    saturday, monday = sunday - timedelta(days=1), sunday + timedelta(days=1)
    steps = [  # (local wall clock, whether the event is asked)
        (_at(zone, saturday, 23, 30), True),
        (_at(zone, saturday, 23, 40), False),  # same local day
        (_at(zone, sunday, 0, 10), True),      # a new local day, still Saturday in UTC
        (_at(zone, sunday, 23, 50), False),    # the change day is one day, 23 or 25 hours long
        (_at(zone, monday, 0, 5), True),       # Monday, still Sunday in UTC
    ]
    for i, (when, asked) in enumerate(steps):
        move_to(live_server, when)
        result = send(live_server, f"u{i}", "paid")
        assert (result["decision"] == "prompt") is asked, (i, result)
        if not asked:
            assert result["reason"] == "quota_reached"
            assert result["detail"] == f"1 prompts today ({zone}), quota is 1"


def _week(d: date) -> str:
    return (d - timedelta(days=d.weekday())).isoformat()


@pytest.mark.parametrize(("zone", "sunday"), CHANGES, ids=[f"{z}-{d:%b}" for z, d in CHANGES])
def test_report_weeks_and_days_across_the_clock_change(live_server: LiveServer, zone: str, sunday: date) -> None:
    """Answers at 00:30 on the Monday before the change, 23:30 on the change Sunday and 00:30 on the
    Monday after: the site's weeks hold them as its calendar does; ?tz= regroups them."""
    time_zone(live_server, zone)
    policy(live_server)
    monday_before, monday_after = sunday - timedelta(days=6), sunday + timedelta(days=1)
    answers = [(_at(zone, monday_before, 0, 30), 7), (_at(zone, sunday, 23, 30), 6), (_at(zone, monday_after, 0, 30), 2)]
    for i, (when, score) in enumerate(answers):
        move_to(live_server, when)
        result = send(live_server, f"w{i}")
        answer(live_server, f"w{i}", result["prompt_id"], score)

    def weeks(query: str) -> dict[str, dict[str, int]]:
        body = ok(live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/report?interval=week{query}"))
        return {p["start"]: {k: v for k, v in p["distribution"].items() if v} for p in body["over_time"]["periods"]}

    assert weeks("") == {monday_before.isoformat(): {"7": 1, "6": 1}, monday_after.isoformat(): {"2": 1}}
    # Another zone for one request, computed independently from each instant.
    for other in ("UTC", "Europe/Bucharest" if zone == "Europe/Paris" else "Europe/Paris", "America/New_York"):
        want: dict[str, dict[str, int]] = {}
        for when, score in answers:
            d = datetime.fromtimestamp(when, ZoneInfo(other)).date()
            want.setdefault(_week(d), {}).setdefault(str(score), 0)
            want[_week(d)][str(score)] += 1
        assert weeks(f"&tz={other}") == want, other
    # Days: the change Sunday is one day whatever its length.
    body = ok(live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/report?interval=day"))
    assert [p["start"] for p in body["over_time"]["periods"]] == [
        monday_before.isoformat(), sunday.isoformat(), monday_after.isoformat()]
    # A date in from/to is a local day: from the Monday after, only its answer.
    body = ok(live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/report?from={monday_after}"))
    assert body["score"]["n"] == 1 and body["filters"]["tz"] == zone
    assert body["filters"]["from"] == datetime.fromtimestamp(_at(zone, monday_after, 0, 0), ZoneInfo(zone)).isoformat()
    # The export's dates carry the zone's offset of each instant (+01:00 / +02:00 / +03:00).
    status, raw = http("GET", f"{live_server.url}/api/v1/surveys/{live_server.survey_id}/export?format=csv",
                       token=live_server.admin_token)
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(raw.decode() if isinstance(raw, bytes) else raw)))
    for row, (when, _) in zip(sorted(rows, key=lambda r: r["answer_id"]), answers):
        got = datetime.fromisoformat(row["answered_at"])
        assert got.utcoffset() == ZoneInfo(zone).utcoffset(datetime.fromtimestamp(when, ZoneInfo(zone)).replace(tzinfo=None))
        assert abs(got.timestamp() - when) < 5
    # Lists print their dates in the zone too; ?tz=UTC goes back to Z.
    comments = ok(live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/at-risk?followed_up=any"))
    assert comments["users"] and all(u["answered_at"][-6] in "+-" for u in comments["users"])
    comments = ok(live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/at-risk?followed_up=any&tz=UTC"))
    assert all(u["answered_at"].endswith("Z") for u in comments["users"])


def test_utc_stays_the_default_and_the_rollup_answers_it(live_server: LiveServer) -> None:
    assert ok(live_server.admin("GET", f"/api/v1/sites/{live_server.site['id']}"))["time_zone"] == "UTC"
    body = ok(live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/report"))
    assert body["source"] == "rollup" and body["filters"]["tz"] == "UTC"
    body = ok(live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/report?tz=Europe/Paris"))
    assert body["source"] == "columns" and body["filters"]["tz"] == "Europe/Paris"


ENDPOINTS = ["report", "compare?a.from=2026-03-01", "comments", "at-risk", "export"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("bad", ["Mars/Olympus", "Europe/../../etc/passwd", "", "x" * 100])
def test_unknown_time_zone_is_a_400_naming_tz(live_server: LiveServer, endpoint: str, bad: str) -> None:
    sep = "&" if "?" in endpoint else "?"
    status, body = live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/{endpoint}{sep}tz={bad}")
    assert status == 400 and "tz" in body["error"]["fields"], body


@pytest.mark.parametrize("bad", ["Mars/Olympus", "", 5, None, "/etc/localtime", "Europe/Paris "])
def test_setting_an_unknown_time_zone_changes_nothing(live_server: LiveServer, bad: object) -> None:
    site = live_server.site["id"]
    time_zone(live_server, "Europe/Bucharest")
    before = live_server.services.storage.get_site(site)
    status, body = live_server.admin("PATCH", f"/api/v1/sites/{site}", {"time_zone": bad})
    assert status == 400 and "time_zone" in body["error"]["fields"], body
    assert live_server.services.storage.get_site(site) == before
    assert ok(live_server.admin("GET", f"/api/v1/sites/{site}"))["time_zone"] == "Europe/Bucharest"
    status, body = live_server.admin("PATCH", f"/api/v1/sites/{site}", {"time_zone": "UTC", "zone": "x"})
    assert status == 400 and "zone" in body["error"]["fields"]
    assert live_server.services.storage.get_site(site) == before


def test_the_cli_report_follows_the_sites_time_zone(live_server: LiveServer) -> None:
    """`ces report` (a real process on the same database file) reads days in the site's zone."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    time_zone(live_server, "Europe/Bucharest")
    ces = str(Path(sys.executable).with_name("ces"))
    out = subprocess.run([ces, "report", str(live_server.survey_id), "--db", live_server.db_path, "--json",
                          "--from", "2027-03-29"], capture_output=True, text=True, timeout=60, check=True).stdout
    filters = json.loads(out)["filters"]
    assert filters["tz"] == "Europe/Bucharest" and filters["from"] == "2027-03-29T00:00:00+03:00"
