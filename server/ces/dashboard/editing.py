"""What the editor pages (surveys, triggers, fatigue) share: reading form fields into the API's
JSON body, and the API's validation messages back onto the fields that caused them.

The pages never validate on their own: a form becomes the same body the admin API takes, the
service (rules_editing.py) validates it with the API's schemas, and each message it returns is
shown next to its field. A value the form cannot read (a number field holding "abc") is passed
on as typed, so the schema refuses it in its own words.
"""
from __future__ import annotations

import json
import re
from typing import Any, Mapping

from ..rules_editing import Reach
from .access import Account

# Durations are edited as a number and a unit; stored in seconds.
UNITS: tuple[tuple[str, int], ...] = (("seconds", 1), ("minutes", 60), ("hours", 3600), ("days", 86400))
_UNIT = dict(UNITS)
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def reach(account: Account) -> Reach:
    return Reach(account.sees, account.site_id)


def flat_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as {"texts.fr.question": ["..."]} (the form's field names)."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                name = prefix or "_schema"
            for k, v in flat_errors(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(messages, (list, tuple)):
        for item in messages:
            if isinstance(item, (Mapping, list, tuple)):
                for k, v in flat_errors(item, prefix).items():
                    out.setdefault(k, []).extend(v)
            else:
                out.setdefault(prefix or "_schema", []).append(str(item))
    else:
        out.setdefault(prefix or "_schema", []).append(str(messages))
    return out


def number(text: str | None) -> Any:
    """A form's number field: "" is None, digits an int, a decimal a float, anything else as typed."""
    text = (text or "").strip()
    if not text:
        return None
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    return text


def seconds(value: str | None, unit: str | None) -> Any:
    """A duration field (number + unit) in seconds; None when empty; as typed when unreadable."""
    n = number(value)
    if n is None or isinstance(n, str):
        return n
    total = n * _UNIT.get(unit or "seconds", 1)
    return int(total) if float(total).is_integer() else total


def split_seconds(total: Any, default_unit: str = "days") -> tuple[str, str]:
    """Seconds shown as the largest unit that divides them ("", default unit for None)."""
    if total is None or total == "":
        return "", default_unit
    if not isinstance(total, (int, float)) or isinstance(total, bool):
        return str(total), "seconds"
    for name, size in reversed(UNITS):
        if total and total % size == 0:
            return str(int(total // size)), name
    return str(total), "seconds"


def typed(text: str) -> Any:
    """A condition's value as typed: numbers, true/false/null and "quoted text" are JSON, the rest text."""
    text = text.strip()
    if text in ("true", "false", "null") or _FLOAT.match(text) or (len(text) >= 2 and text[0] == text[-1] == '"'):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def untyped(value: Any) -> str:
    """The inverse of `typed()` for showing a stored value in its field."""
    if isinstance(value, str):
        return json.dumps(value) if typed(value) != value else value
    return json.dumps(value)


def when(ts: float | None, site: Mapping[str, Any]) -> str:
    """A time as the site's people read it: "2026-12-01 14:05:09 CET" (the site's time zone)."""
    if ts is None:
        return ""
    from datetime import datetime

    from ..core.time_zones import site_time_zone, zone
    moment = datetime.fromtimestamp(ts, zone(site_time_zone(site)))
    return moment.strftime("%Y-%m-%d %H:%M:%S ") + (moment.tzname() or "")
