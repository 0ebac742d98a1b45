"""A site's time zone: an IANA name (`Europe/Paris`), checked against the zone database."""
from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

DEFAULT = "UTC"


@lru_cache(maxsize=1)
def _names() -> frozenset[str]:
    return frozenset(available_timezones()) | {DEFAULT}


def zone_problem(name: object) -> str | None:
    """Why `name` is not a time zone this server knows; None when it is."""
    if not isinstance(name, str) or not name:
        return "A time zone name, e.g. Europe/Paris or UTC."
    if name not in _names():
        return (f"Unknown time zone '{name[:64]}': use an IANA name such as Europe/Paris, "
                "America/New_York or UTC.")
    return None
