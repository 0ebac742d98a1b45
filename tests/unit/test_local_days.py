"""core/time_zones.py and what reads it: local days across clock changes, whole-day windows,
the SQL local day, report query parsing with a zone."""
from __future__ import annotations

import random
import sqlite3
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from ces.core import time_zones as tz
from ces.core.fatigue import FatiguePolicy, PastPrompt, UserHistory, check
from ces.core.report_filters import FilterError, parse

PARIS, BUCHAREST = "Europe/Paris", "Europe/Bucharest"


def at(zone: str, *parts: int) -> float:
    return datetime(*parts, tzinfo=ZoneInfo(zone)).timestamp()


@pytest.mark.parametrize("zone", [PARIS, BUCHAREST])
def test_day_start_and_length_across_both_changes(zone: str) -> None:
    march, october = date(2027, 3, 28), date(2027, 10, 31)
    assert tz.date_start(march + timedelta(days=1), zone) - tz.date_start(march, zone) == 23 * 3600
    assert tz.date_start(october + timedelta(days=1), zone) - tz.date_start(october, zone) == 25 * 3600
    noon = at(zone, 2027, 3, 28, 12, 0)
    assert tz.day_start(noon, zone) == at(zone, 2027, 3, 28, 0, 0)
    assert tz.local_date(at(zone, 2027, 10, 31, 23, 59), zone) == october
    assert tz.day_number(at(zone, 2027, 3, 29, 0, 30), zone) == (date(2027, 3, 29) - date(1970, 1, 1)).days
    # UTC is the plain UTC day.
    assert tz.day_start(1_750_000_000.0, "UTC") == 1_749_945_600.0


def test_span_start_counts_wall_clock_days_only_for_whole_days() -> None:
    now = at(PARIS, 2027, 3, 30, 10, 0)
    assert tz.span_start(now, 7 * 86400, PARIS) == at(PARIS, 2027, 3, 23, 10, 0)
    assert now - tz.span_start(now, 7 * 86400, PARIS) == 7 * 86400 - 3600
    assert tz.span_start(now, 7 * 86400 + 1, PARIS) == now - 7 * 86400 - 1  # not whole days: seconds
    assert tz.span_start(now, 7 * 86400, "UTC") == now - 7 * 86400


def test_a_seven_day_wait_ends_at_the_same_wall_clock_time_after_the_change() -> None:
    policy = FatiguePolicy(recontact_wait=7 * 86400, survey_wait=None, max_prompts=None, max_prompts_window=None,
                           one_open=False)
    shown = at(PARIS, 2027, 3, 23, 10, 0)
    history = UserHistory((PastPrompt(1, "ces7", "answered", shown - 60, shown, shown + 30),))
    assert check(policy, history, 1, "ces7", at(PARIS, 2027, 3, 30, 9, 59), PARIS).reason == "recontact_wait"
    assert check(policy, history, 1, "ces7", at(PARIS, 2027, 3, 30, 10, 0), PARIS) is None
    # In UTC the same wait is 7 x 86,400 s: an hour later on the Paris wall clock.
    assert check(policy, history, 1, "ces7", at(PARIS, 2027, 3, 30, 10, 0), "UTC").reason == "recontact_wait"


@pytest.mark.parametrize("zone", [PARIS, BUCHAREST, "America/New_York", "Asia/Kathmandu", "UTC"])
def test_local_day_sql_agrees_with_python(zone: str) -> None:
    start, end = at("UTC", 2026, 1, 1, 0, 0), at("UTC", 2028, 1, 1, 0, 0)
    expr = tz.local_day_sql("t", zone, start, end)
    conn = sqlite3.connect(":memory:")
    rng = random.Random(7)
    points = [rng.uniform(start, end) for _ in range(400)]
    # Around every change, both sides of it.
    points += [t + d for t, _ in tz.offsets(zone, start, end)[1:] for d in (-1, 0, 1, -3600, 3600)]
    for t in points:
        assert conn.execute(f"select {expr} from (select ? as t)", [t]).fetchone()[0] == tz.day_number(t, zone), t


def test_offsets_of_paris_in_2027() -> None:
    changes = tz.offsets(PARIS, at("UTC", 2027, 1, 1, 0, 0), at("UTC", 2028, 1, 1, 0, 0))
    assert [(datetime.fromtimestamp(t, timezone.utc).isoformat() if t > 0 else None, o) for t, o in changes] == [
        (None, 3600), ("2027-03-28T01:00:00+00:00", 7200), ("2027-10-31T01:00:00+00:00", 3600)]


@pytest.mark.parametrize("bad", ["Mars/Olympus", "", "../x", "/etc/localtime", "Europe/Paris\\x", "x" * 65, 3, None])
def test_unknown_names(bad: object) -> None:
    assert tz.time_zone_error(bad) is not None
    assert tz.site_time_zone({"time_zone": bad}) == "UTC"


def test_site_time_zone_accessor() -> None:
    assert tz.site_time_zone({"id": 1, "time_zone": "Europe/Paris"}) == PARIS
    assert tz.site_time_zone({}) == tz.site_time_zone(None) == tz.site_time_zone({"time_zone": "Mars/Base"}) == "UTC"


def test_report_query_dates_are_local_days() -> None:
    q = parse([("from", "2027-03-28"), ("to", "2027-03-28")], time_zone=PARIS)
    assert (q.start, q.end) == (at(PARIS, 2027, 3, 28, 0, 0), at(PARIS, 2027, 3, 29, 0, 0))
    assert q.end - q.start == 23 * 3600 and not q.whole_days
    q = parse([("from", "2027-03-28T12:00"), ("tz", BUCHAREST)], time_zone=PARIS)
    assert q.tz == BUCHAREST and q.start == at(BUCHAREST, 2027, 3, 28, 12, 0)
    assert parse([("from", "2027-03-28T12:00Z")], time_zone=PARIS).start == at("UTC", 2027, 3, 28, 12, 0)
    assert parse([]).tz == "UTC" and parse([]).whole_days
    for args in ([("tz", "Mars/Olympus")], [("tz", "UTC"), ("tz", "UTC")]):
        with pytest.raises(FilterError) as err:
            parse(args)
        assert err.value.field == "tz"
