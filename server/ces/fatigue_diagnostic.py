"""The fatigue diagnostic of a site, for the admin API and the dashboard's Fatigue page: in a
period, how many users were prompted by two or more surveys within a window (24 h by default),
and which survey pairs collide for the same users."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Mapping

from .core.collisions import count
from .core.time_zones import date_start, local_date, site_time_zone
from .storage import Storage
from .storage.collisions import prompt_contacts

DEFAULT_DAYS = 30


def period(site: Mapping[str, Any], now: float, first: date | None, last: date | None) -> tuple[date, date]:
    """The period's first and last days (both included, in the site's time zone): the last
    DEFAULT_DAYS days up to today unless given."""
    last = last or local_date(now, site_time_zone(site))
    return (first or last - timedelta(days=DEFAULT_DAYS - 1)), last


def diagnose(storage: Storage, site: Mapping[str, Any], first: date, last: date,
             window_hours: int = 24) -> dict[str, Any]:
    zone = site_time_zone(site)
    start, end = date_start(first, zone), date_start(last + timedelta(days=1), zone)
    found = count(prompt_contacts(storage, site["id"], start, end), window_hours * 3600)
    names = {s["id"]: s["name"] for s in storage.list_rows("surveys", {"site_id": site["id"]}, 500, 0)[0]}
    share = found.share()
    return {
        "site_id": site["id"], "from": first.isoformat(), "to": last.isoformat(), "time_zone": zone,
        "window_hours": window_hours, "users_prompted": found.users_prompted,
        "users_colliding": found.users_colliding, "colliding_share": None if share is None else round(share, 1),
        "pairs": [{"survey_a": a, "survey_a_name": names.get(a), "survey_b": b, "survey_b_name": names.get(b),
                   "users": n} for (a, b), n in found.sorted_pairs()],
    }
