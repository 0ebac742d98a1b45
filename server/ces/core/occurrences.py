"""Occurrence conditions: how many times this user has sent an event, from the stored events.

A trigger's `occurrences` is a list (all must hold) of:

    {"event": "onboarding_step", "nth": 3}                      the 3rd time exactly
    {"event": "login", "at_least": 5}                           5 times or more, ever
    {"event": "report_exported", "at_least": 3, "within_days": 7}   3+ times in the last 7 days

`event` defaults to the trigger's own event. The count is every event of that name the user sent
(from the backend or the widget, whatever was decided on it; a duplicate `event_id` is not a new
event, a dry run stores nothing), *including the one being decided* when it has that name: on
the 3rd `onboarding_step`, the count is 3. `nth` needs the trigger's own event (the Nth time of
another event is not a moment). `within_days` counts calendar days in the site's time zone, back
from now. The storage counts inside the batch's write transaction, so two events decided at the
same time can never both be the 3rd.

validate() speaks marshmallow's error shape, like conditions.validate().
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

MAX_OCCURRENCES = 5
MAX_COUNT = 1_000_000
MAX_DAYS = 3660
_KEYS = ("event", "nth", "at_least", "within_days")

Errors = dict[str, Any]


@dataclass(frozen=True)
class Occurrence:
    event: str
    nth: int | None = None
    at_least: int | None = None
    within_days: int | None = None

    def holds(self, count: int) -> bool:
        return count == self.nth if self.nth is not None else count >= (self.at_least or 0)

    def describe(self, count: int) -> str:
        window = f" in the last {self.within_days} days" if self.within_days else ""
        want = f"the {_ordinal(self.nth)} one" if self.nth is not None else f"at least {self.at_least}"
        return f"{self.event} sent {count} times{window}, wants {want}"


def _ordinal(n: int | None) -> str:
    n = n or 0
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _count_error(value: Any, low: int, high: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "Must be an integer."
    if value < low:
        return f"Must be at least {low}."
    if value > high:
        return f"Must be at most {high}."
    return None


def validate(value: Any, trigger_event: str | None) -> Errors:
    """Errors for a trigger's `occurrences` list; {} when valid (None and [] are "none")."""
    if value is None:
        return {}
    if not isinstance(value, list):
        return {"_schema": ["Must be a list of occurrence conditions."]}
    if len(value) > MAX_OCCURRENCES:
        return {"_schema": [f"At most {MAX_OCCURRENCES} occurrence conditions."]}
    errors: Errors = {}
    for i, item in enumerate(value):
        err = _validate_one(item, trigger_event)
        if err:
            errors[str(i)] = err
    return errors


def _validate_one(item: Any, trigger_event: str | None) -> Errors:
    if not isinstance(item, Mapping):
        return {"_schema": ["Must be an object such as {\"nth\": 3} or {\"at_least\": 3, \"within_days\": 7}."]}
    errors: Errors = {k: ["Unknown field."] for k in item if k not in _KEYS}
    event = item.get("event")
    if event is not None and (not isinstance(event, str) or not 1 <= len(event) <= 128):
        errors["event"] = ["Must be an event name (1 to 128 characters)."]
    has_nth, has_least = item.get("nth") is not None, item.get("at_least") is not None
    if has_nth == has_least:
        errors["nth" if not has_nth else "at_least"] = ["Give exactly one of 'nth' and 'at_least'."]
    for key in ("nth", "at_least"):
        if item.get(key) is not None:
            msg = _count_error(item[key], 1, MAX_COUNT)
            if msg:
                errors[key] = [msg]
    if item.get("within_days") is not None:
        msg = _count_error(item["within_days"], 1, MAX_DAYS)
        if msg:
            errors["within_days"] = [msg]
    if has_nth and isinstance(event, str) and trigger_event is not None and event != trigger_event:
        errors["event"] = [f"'nth' counts the trigger's own event ({trigger_event!r}); use 'at_least' "
                           "for another event."]
    return errors


def parse(value: Any, trigger_event: str) -> tuple[Occurrence, ...]:
    """The (validated) stored list as Occurrence objects."""
    return tuple(Occurrence(event=item.get("event") or trigger_event, nth=item.get("nth"),
                            at_least=item.get("at_least"), within_days=item.get("within_days"))
                 for item in (value or ()))
