"""Report query strings parsed into a validated `ReportQuery`: pure, no Flask, no SQL.

Every refusal is a `FilterError` naming the parameter, so the HTTP layer answers 400 with the
field and the CLI prints it.

Parameters (all optional):

* `tz`: the IANA time zone of this request (`Europe/Paris`), overriding the site's (default UTC).
  Days, weeks and months, dates in `from`/`to` and the dates the lists and exports print are
  in that zone.
* `from`, `to`: ISO 8601 date (`2026-03-01`, a whole day in the zone) or date-time (naive
  means the zone's wall clock; with an offset or `Z`, that instant).
  `from` is inclusive; a date-time `to` is exclusive, a date `to` includes that whole day.
* `trigger`: trigger id, or several separated by commas. `variant`, `locale`: exact strings.
* `properties.<key>[<op>]=<value>` on the triggering event's properties, `<key>` a dotted path
  (depth ≤ 3). `<op>` is `eq` (the default, also written without brackets), `ne`, `gt`, `gte`,
  `lt`, `lte`, `in` (comma-separated values) or `exists` (`true`/`false`). Numeric-looking
  values also match numbers; `true`/`false` also match booleans.
* `interval`: `day`, `week` (default, ISO weeks from Monday, in the zone) or `month`.
* `driver`: the property to break scores down by; `buckets`: comma-separated ascending lower
  bounds for a numeric driver (default: see core/drivers.py).
* `q`, `page`, `page_size` (≤ 200) for comments and at-risk lists; `score` (one score or several
  separated by commas) for comments; `high_effort_max`,
  `followed_up` (`false` default, `true`, `any`) for at-risk; `format` (`csv`, `jsonl`) for export.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from . import drivers
from .time_zones import UTC_NAME, date_start, is_utc, iso_local, time_zone_error, zone
from .limits import INT_MAX, INT_MIN

DAY = 86400
OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "exists")
INTERVALS = ("day", "week", "month")
FORMATS = ("csv", "jsonl")
MAX_PAGE_SIZE = 200
MAX_IN_VALUES = 100
_PATH = re.compile(r"^[A-Za-z0-9_\-]{1,64}(\.[A-Za-z0-9_\-]{1,64}){0,2}$")
_PROP = re.compile(r"^properties\.([^\[\]]+?)(?:\[([^\[\]]*)\])?$")
COMMON = frozenset({"from", "to", "trigger", "variant", "locale", "tz"})


class FilterError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field, self.message = field_name, message


@dataclass(frozen=True)
class PropertyFilter:
    path: str
    op: str
    values: tuple[Any, ...]  # each a candidate: str, and also int/float/bool when it looks like one

    @property
    def json_path(self) -> str:
        return "$." + self.path


@dataclass(frozen=True)
class ReportQuery:
    start: float | None = None
    end: float | None = None
    triggers: tuple[int, ...] = ()
    variant: str | None = None
    locale: str | None = None
    properties: tuple[PropertyFilter, ...] = ()
    interval: str = "week"
    driver: str | None = None
    buckets: tuple[float, ...] | None = None
    q: str | None = None
    scores: tuple[int, ...] = ()
    page: int = 1
    page_size: int = 50
    high_effort_max: int | None = None
    followed_up: str = "false"
    format: str = "csv"
    extras: dict[str, Any] = field(default_factory=dict)
    tz: str = UTC_NAME

    @property
    def whole_days(self) -> bool:
        """True when the days are UTC days and the range falls on UTC midnights (the rollups,
        kept by UTC day, can answer it)."""
        return is_utc(self.tz) and all(t is None or t % DAY == 0 for t in (self.start, self.end))

    def describe(self) -> dict[str, Any]:
        if is_utc(self.tz):
            iso = lambda t: None if t is None else datetime.fromtimestamp(t, timezone.utc).isoformat()  # noqa: E731
        else:
            iso = lambda t: iso_local(t, self.tz)  # noqa: E731
        return {"from": iso(self.start), "to": iso(self.end), "tz": self.tz, "trigger": list(self.triggers) or None,
                "variant": self.variant, "locale": self.locale,
                "properties": [{"key": p.path, "op": p.op, "value": list(_originals(p))} for p in self.properties]}


def _originals(p: PropertyFilter) -> list[Any]:
    return [v for v in p.values if isinstance(v, str)]


def _parse_time(name: str, raw: str, end: bool, tz: str = UTC_NAME) -> float:
    raw = raw.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            d = date.fromisoformat(raw) + (timedelta(days=1) if end else timedelta())
            return date_start(d, tz)  # local midnight: 23 or 25 hours from the previous on a change day
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise FilterError(name, "expected an ISO 8601 date (2026-03-01) or date-time") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone(tz))
    return dt.timestamp()


def _candidates(raw: str) -> tuple[Any, ...]:
    out: list[Any] = [raw]
    if raw in ("true", "false"):
        out.append(raw == "true")
    else:
        try:
            number = int(raw)
            if not INT_MIN <= number <= INT_MAX:
                number = float(number)  # as SQLite's JSON reads a number this large: a real
        except ValueError:
            try:
                number = float(raw)
            except ValueError:
                number = None
            if number is not None and not math.isfinite(number):
                number = None
        if number is not None:
            out.append(number)
    return tuple(out)


def _choice(name: str, raw: str, options: Sequence[str]) -> str:
    if raw not in options:
        raise FilterError(name, f"must be one of {', '.join(options)}")
    return raw


def _int(name: str, raw: str, low: int, high: int | None = None) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise FilterError(name, "expected an integer") from None
    if value < low or (high is not None and value > high):
        raise FilterError(name, f"must be between {low} and {high}" if high is not None else f"must be at least {low}")
    return value


def parse(args: Iterable[tuple[str, str]], allowed: Iterable[str] = (), time_zone: str = UTC_NAME) -> ReportQuery:
    """Parse query parameters; `allowed` names the endpoint's own parameters beyond the filters.
    `time_zone` is the site's; a `tz` parameter overrides it."""
    args = list(args)
    allowed_set = COMMON | frozenset(allowed)
    tz = time_zone or UTC_NAME
    given = [raw for name, raw in args if name == "tz"]
    if len(given) > 1:
        raise FilterError("tz", "given more than once")
    if given:
        problem = time_zone_error(given[0])
        if problem:
            raise FilterError("tz", problem)
        tz = given[0]
    values: dict[str, Any] = {"tz": tz}
    props: list[PropertyFilter] = []
    seen: set[str] = set()
    for name, raw in args:
        if name.startswith("properties."):
            props.append(_property(name, raw))
            continue
        if name not in allowed_set:
            raise FilterError(name, "unknown parameter")
        if name in seen:
            raise FilterError(name, "given more than once")
        seen.add(name)
        if name == "tz":
            continue  # read above: `from` and `to` are in it
        if name in ("from", "to"):
            values["start" if name == "from" else "end"] = _parse_time(name, raw, end=name == "to", tz=tz)
        elif name == "trigger":
            try:
                values["triggers"] = tuple(int(x) for x in raw.split(","))
                if any(not INT_MIN <= t <= INT_MAX for t in values["triggers"]):
                    raise ValueError(raw)
            except ValueError:
                raise FilterError(name, "expected a trigger id or ids separated by commas") from None
        elif name in ("variant", "locale"):
            if not 1 <= len(raw) <= 64:
                raise FilterError(name, "must be 1 to 64 characters")
            values[name] = raw
        elif name == "interval":
            values[name] = _choice(name, raw, INTERVALS)
        elif name == "driver":
            if not _PATH.match(raw):
                raise FilterError(name, "expected a property name (letters, digits, _ and -, dotted, depth ≤ 3)")
            values[name] = raw
        elif name == "buckets":
            try:
                values[name] = drivers.check_bounds([float(x) for x in raw.split(",")])
            except ValueError as err:
                raise FilterError(name, str(err) if "bound" in str(err) else "expected numbers separated by commas") from None
        elif name == "q":
            if len(raw) > 200:
                raise FilterError(name, "at most 200 characters")
            values[name] = raw or None
        elif name == "score":
            values["scores"] = _scores(raw)
        elif name == "page":
            values[name] = _int(name, raw, 1, 1_000_000)
        elif name == "page_size":
            values[name] = _int(name, raw, 1, MAX_PAGE_SIZE)
        elif name == "high_effort_max":
            values[name] = _int(name, raw, -1_000_000, 1_000_000)
        elif name == "followed_up":
            if raw not in ("true", "false", "any"):
                raise FilterError(name, "must be true, false or any")
            values[name] = raw
        elif name == "format":
            values[name] = _choice(name, raw, FORMATS)
        else:
            values.setdefault("extras", {})[name] = raw
    start, end = values.get("start"), values.get("end")
    if start is not None and end is not None and start >= end:
        raise FilterError("to", "must be after 'from'")
    return ReportQuery(properties=tuple(props), **values)


def _scores(raw: str) -> tuple[int, ...]:
    """`score=1,2,3`: the answers' scores to keep (whether they are on the survey's scale is the
    report's check: the scale is the survey's, not the query's)."""
    try:
        scores = tuple(sorted({int(x) for x in raw.split(",")}))
    except ValueError:
        raise FilterError("score", "expected a score or scores separated by commas") from None
    if len(scores) > MAX_IN_VALUES or any(not -1_000_000 <= s <= 1_000_000 for s in scores):
        raise FilterError("score", "expected a score or scores separated by commas")
    return scores


def _property(name: str, raw: str) -> PropertyFilter:
    m = _PROP.match(name)
    if not m or not _PATH.match(m.group(1)):
        raise FilterError(name, "expected properties.<key> or properties.<key>[<op>], key of letters, digits, _ "
                          "and -, dotted, depth ≤ 3")
    path, op = m.group(1), (m.group(2) if m.group(2) is not None else "eq")
    if op not in OPERATORS:
        raise FilterError(name, f"unknown operator '{op}'; use one of {', '.join(OPERATORS)}")
    if op == "exists":
        if raw not in ("true", "false"):
            raise FilterError(name, "exists takes true or false")
        return PropertyFilter(path, op, (raw == "true",))
    if op == "in":
        parts = raw.split(",")
        if len(parts) > MAX_IN_VALUES:
            raise FilterError(name, f"at most {MAX_IN_VALUES} values")
        return PropertyFilter(path, op, tuple(c for part in parts for c in _candidates(part)))
    if op in ("gt", "gte", "lt", "lte"):
        numbers = [c for c in _candidates(raw) if isinstance(c, (int, float)) and not isinstance(c, bool)]
        if not numbers:
            raise FilterError(name, f"'{op}' needs a number")
        return PropertyFilter(path, op, (numbers[0],))
    return PropertyFilter(path, op, _candidates(raw))


def side_args(args: Iterable[tuple[str, str]], side: str) -> list[tuple[str, str]]:
    """One side of a comparison: the shared filters plus the side's own (`a.from=…`), the side's
    winning; the other side's are left out."""
    shared, own = [], []
    for name, raw in args:
        prefix, dot, rest = name.partition(".")
        if dot and prefix in ("a", "b"):
            if prefix == side:
                own.append((rest, raw))
        else:
            shared.append((name, raw))
    own_names = {n for n, _ in own}
    return [(n, v) for n, v in shared if n not in own_names] + own
