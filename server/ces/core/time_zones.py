"""A site's time zone: where its days begin, across daylight-saving changes.

Every "day" of the product (a quota's day, a report's day, week and month, a window of N days)
is a calendar day in the site's time zone, an IANA name (`Europe/Paris`), UTC by default. Pure:
zoneinfo reads the system's time-zone database, nothing else.

Days on a wall clock are not all 86,400 s long: in Europe/Paris the last Sunday of March has 23
hours and the last Sunday of October 25. So a day's start is found from the local date (never
by adding 86,400 s), and "the last 7 days" means from the same local time 7 dates earlier.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC_NAME = "UTC"
DAY = 86_400
MAX_NAME = 64


def time_zone_error(name: object) -> str | None:
    """Why `name` is not a time zone we know, or None."""
    if not isinstance(name, str) or not name or len(name) > MAX_NAME:
        return "Must be an IANA time zone name, such as Europe/Paris or UTC."
    try:
        zone(name)
    except ValueError:
        return f"Unknown time zone {name!r}: use an IANA name, such as Europe/Paris or UTC."
    return None


@lru_cache(maxsize=64)
def zone(name: str | None) -> tzinfo:
    """The tzinfo for an IANA name (None or "UTC": UTC); ValueError for an unknown one."""
    if not name or name == UTC_NAME:
        return timezone.utc
    # Paths and odd spellings are refused before zoneinfo sees them.
    if name.startswith(("/", ".")) or ".." in name or "\\" in name:
        raise ValueError(name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(name) from None


def is_utc(name: str | None) -> bool:
    return not name or name == UTC_NAME


def local_date(ts: float, name: str | None) -> date:
    """The calendar date at epoch seconds `ts` in the zone."""
    return datetime.fromtimestamp(ts, zone(name)).date()


def day_start(ts: float, name: str | None) -> float:
    """Epoch seconds of local midnight starting the day that holds `ts`."""
    return date_start(local_date(ts, name), name)


def date_start(d: date, name: str | None) -> float:
    """Epoch seconds of the first instant of local date `d` (midnight; later if a change skips it)."""
    tz = zone(name)
    start = datetime(d.year, d.month, d.day, tzinfo=tz)
    # A zone that jumps over midnight (none in Europe) would make 00:00 not exist: fold=0 gives
    # the time before the gap, which zoneinfo maps to the instant after it. Good enough either way.
    return start.timestamp()


def day_number(ts: float, name: str | None) -> int:
    """Days since 1970-01-01 of the local date at `ts` (the UTC day number when the zone is UTC)."""
    return (local_date(ts, name) - date(1970, 1, 1)).days


def span_start(now: float, seconds: float, name: str | None) -> float:
    """The start of a window of `seconds` ending at `now`.

    A window of whole days in a zone with daylight saving counts calendar days: 7 days before
    Tuesday 10:00 is the previous Tuesday 10:00 on the wall clock, 1 hour more or less than
    7 x 86,400 s when a clock change falls in between. Other windows are plain seconds.
    """
    if is_utc(name) or seconds <= 0 or seconds % DAY:
        return now - seconds
    tz = zone(name)
    local = datetime.fromtimestamp(now, tz)
    back = (local.replace(tzinfo=None) - timedelta(days=seconds // DAY)).replace(tzinfo=tz)
    return back.timestamp()


def iso_local(ts: float | None, name: str | None) -> str | None:
    """ISO 8601 in the zone: `2027-03-28T03:00:00+02:00`, or `…Z` for UTC."""
    if ts is None:
        return None
    text = datetime.fromtimestamp(ts, zone(name)).isoformat()
    return text.replace("+00:00", "Z") if is_utc(name) else text


def offsets(name: str | None, start: float, end: float) -> list[tuple[float, int]]:
    """The zone's UTC offsets (seconds) over [start, end): [(from epoch, offset), ...], the first
    from -inf. Finds each change to the minute by bisection between daily samples."""
    tz = zone(name)
    if is_utc(name):
        return [(float("-inf"), 0)]

    def off(t: float) -> int:
        return int(datetime.fromtimestamp(t, tz).utcoffset().total_seconds())  # type: ignore[union-attr]

    out = [(float("-inf"), off(start))]
    t, step = int(start), 6 * 3600
    while t < end:
        nxt = min(t + step, int(end) + 1)
        if off(nxt) != out[-1][1]:
            lo, hi = t, nxt  # off(lo) is the current offset, off(hi) the next: the change is in (lo, hi]
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if off(mid) == out[-1][1]:
                    lo = mid
                else:
                    hi = mid
            out.append((float(hi), off(hi)))
        t = nxt
    return out


def local_day_sql(column: str, name: str | None, start: float, end: float) -> str:
    """SQL for the local day number (as `day_number`) of epoch-seconds `column`, for values in
    [start, end): the column shifted by the offset in force at that instant, as a CASE over the
    zone's changes in the range."""
    changes = offsets(name, start, end)
    if len(changes) == 1:
        shifted = f"{column} + {changes[0][1]}" if changes[0][1] else column
    else:
        whens = " ".join(f"when {column} < {at!r} then {before}"
                         for (_, before), (at, _) in zip(changes, changes[1:]))
        shifted = f"{column} + case {whens} else {changes[-1][1]} end"
    return f"cast(({shifted}) / {DAY} as integer)"


def site_time_zone(site: Mapping[str, Any] | None) -> str:
    """The site's time zone (its `time_zone`, set through the sites API); UTC when unset or not a
    zone this server knows (only valid names are stored: the API checks them)."""
    name = (site or {}).get("time_zone")
    return name if isinstance(name, str) and time_zone_error(name) is None else UTC_NAME
