"""The fatigue policy: never ask the same person too often.

Pure data plus two checks. The storage module fills in a UserHistory (the user's
recent prompts) and SurveyCounts (the survey's prompts and answers), and calls
check() and check_quota() inside the same transaction that records the prompt,
so the decision and the write are atomic.

Layers (each one off when its setting is None):

    one_open            at most one open prompt (issued, delivered or shown, not
                        yet answered, dismissed or expired) per user at a time
    max_prompts per     at most N contacts per rolling window per user
      max_prompts_window
    recontact_wait      since the user's last contact, any survey
    type_wait           since the last contact of the same metric type (ces7 and
                        ces5 are one type "ces"; nps, csat, ves are one each)
    survey_wait         since the last contact for the same survey
    max_prompts_per_visit  at most N prompts in one visit (core/visits.py)
    min_visit_seconds   no prompt in the first S seconds of a visit (core/visits.py)
    SurveyQuota         per survey: answers / prompts per day (the site's time zone)
                        and in total

Precedence, when several apply, the first in this list is reported:

    1. prompt_open      2. user_cap       3. recontact_wait
    4. type_wait        5. survey_wait    6. quota_reached

Broadest scope first: the reported reason is the outermost layer that blocks,
which is stable (the same situation always gives the same reason) and tells the
product team which setting to look at. User-level reasons come before the
survey's quota because they are about this user; quota_reached is about everyone.
check_all() applies this order.

What counts as a contact, and at what time (contact_time):

- open prompts always count - a pending prompt is a contact in progress - at
  shown_at, else created_at. (This matters only when one_open is off.)
- answered (if count_answered) and dismissed (if count_dismissed; the user saw
  it): at shown_at, else closed_at, else created_at.
- expired: if it was shown, the user saw it and closed the page without
  answering - it counts like a dismissal (count_dismissed), at shown_at. If it
  was never shown, it counts only if count_expired, at created_at (when we
  tried to reach the user; the expiry itself is nothing the user noticed).

Time zone: a wait or window of whole days counts calendar days in the site's time zone
(`time_zones.span_start`): across a daylight-saving change "30 days" is 30 days on the wall
clock, an hour more or less than 30 x 86,400 s. Other durations are plain seconds.

Boundaries: a wait of W seconds is over at exactly W seconds after the contact
(blocked while now - t < W). A rolling window of W seconds holds contacts with
now - t < W. Contacts stamped in the future (clock skew) count as just now.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, Mapping, NamedTuple, Sequence

from .time_zones import span_start

DAY = 86_400

# Reason codes (the full list with the engine's own is in docs/decisions.md).
PROMPT_OPEN = "prompt_open"
USER_CAP = "user_cap"
RECONTACT_WAIT = "recontact_wait"
TYPE_WAIT = "type_wait"
SURVEY_WAIT = "survey_wait"
QUOTA_REACHED = "quota_reached"
PRECEDENCE: tuple[str, ...] = (
    PROMPT_OPEN, USER_CAP, RECONTACT_WAIT, TYPE_WAIT, SURVEY_WAIT, QUOTA_REACHED,
)

OPEN_STATUSES: frozenset[str] = frozenset({"issued", "delivered", "shown"})
CLOSED_STATUSES: frozenset[str] = frozenset({"answered", "dismissed", "expired"})

# Metrics measuring the same thing share a type: a CES program on a 7-point scale
# and one on a 5-point scale must not both ask the same user in the same week.
METRIC_TYPES: dict[str, str] = {
    "ces7": "ces", "ces5": "ces", "nps": "nps", "csat5": "csat", "ves7": "ves",
    # The numeric ease ratings measure effort too: one CES program, whatever its scale.
    "ease0_10": "ces", "ease1_10": "ces",
}

# Upper bounds keep stored values sane (and inside a 64-bit integer column).
MAX_SECONDS = 10 * 366 * DAY
MAX_COUNT = 1_000_000_000

SurveyId = int | str


def metric_type(metric: str) -> str:
    """The fatigue type of a metric; an unknown metric is a type of its own."""
    return METRIC_TYPES.get(metric, metric)


# --------------------------------------------------------------------------- data

class Skip(NamedTuple):
    """Why a user is not asked (a NamedTuple: cheap to make on the decision path)."""
    reason: str
    detail: str


@dataclass(frozen=True)
class FatiguePolicy:
    """Per-user fatigue settings; durations in seconds, None = that layer is off."""
    recontact_wait: int | None = 30 * DAY
    type_wait: int | None = None
    survey_wait: int | None = 90 * DAY
    max_prompts: int | None = 3
    max_prompts_window: int | None = 90 * DAY
    one_open: bool = True
    count_answered: bool = True
    count_dismissed: bool = True
    count_expired: bool = False
    # Visits (core/visits.py): at most N prompts per visit; none in its first S seconds.
    max_prompts_per_visit: int | None = None
    min_visit_seconds: int | None = None

    def __post_init__(self) -> None:
        errors = validate_policy(self.as_dict())
        if errors:
            raise ValueError(f"invalid fatigue policy: {errors}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lookback(self) -> int | None:
        """How far back (seconds) the storage must load closed prompts for check().

        Open prompts must always be loaded, whatever their age. None: no layer
        looks back at all.
        """
        spans = [s for s in (self.recontact_wait, self.type_wait, self.survey_wait,
                             self.max_prompts_window if self.max_prompts is not None else None)
                 if s is not None]
        return max(spans) if spans else None


@dataclass(frozen=True)
class SurveyQuota:
    """Per-survey caps; None = unlimited. "day" is the calendar day in the site's time zone."""
    max_answers_per_day: int | None = None
    max_prompts_per_day: int | None = None
    max_answers_total: int | None = None
    max_prompts_total: int | None = None

    def __post_init__(self) -> None:
        errors = validate_quota(self.as_dict())
        if errors:
            raise ValueError(f"invalid survey quota: {errors}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PastPrompt:
    """One of the user's prompts, as stored. Times are epoch seconds (UTC)."""
    survey_id: SurveyId
    metric: str
    status: str
    created_at: float
    shown_at: float | None = None
    closed_at: float | None = None
    prompt_id: str | None = None  # only for the detail text

    def __post_init__(self) -> None:
        # Fail loudly: a status this module does not know would silently be
        # neither open nor counted, and the user would be asked too often.
        if self.status not in OPEN_STATUSES | CLOSED_STATUSES:
            raise ValueError(f"unknown prompt status {self.status!r}")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class UserHistory:
    """The user's prompts: every open one, and closed ones within policy.lookback()."""
    prompts: Sequence[PastPrompt] = field(default_factory=tuple)


@dataclass(frozen=True)
class SurveyCounts:
    """The survey's prompts and answers, today (the site's time zone) and in total."""
    prompts_today: int = 0
    answers_today: int = 0
    prompts_total: int = 0
    answers_total: int = 0


# --------------------------------------------------------------------------- checks

def contact_time(policy: FatiguePolicy, prompt: PastPrompt) -> float | None:
    """When `prompt` reached the user, for waits and caps; None if it does not count."""
    shown = prompt.shown_at
    if prompt.status in OPEN_STATUSES:
        return prompt.created_at if shown is None else shown
    if prompt.status == "answered":
        counts = policy.count_answered
    elif prompt.status == "dismissed" or shown is not None:  # dismissed, or expired after being seen
        counts = policy.count_dismissed
    else:
        return prompt.created_at if policy.count_expired else None  # expired unseen
    if not counts:
        return None
    if shown is not None:
        return shown
    return prompt.closed_at if prompt.closed_at is not None else prompt.created_at


def check(policy: FatiguePolicy, history: UserHistory, survey_id: SurveyId, metric: str,
          now: float, time_zone: str | None = None) -> Skip | None:
    """Why this user must not be asked `survey_id` now, or None if they may be.

    `time_zone` (IANA name, None = UTC) is where whole-day waits and windows are counted."""
    prompts = history.prompts
    if not prompts:  # only a cap of 0 blocks a user never asked
        return _check_cap(policy, (), now, time_zone) if policy.max_prompts == 0 else None
    if policy.one_open:
        skip = _check_open(prompts)
        if skip:
            return skip
    contacts = []
    for p in prompts:
        t = contact_time(policy, p)
        if t is not None:
            contacts.append((t if t < now else now, p))  # a contact in the future (clock skew) is now
    if len(contacts) > 1:
        contacts.sort(key=_first_item, reverse=True)  # latest first; stable, as sorted() was

    skip = _check_cap(policy, contacts, now, time_zone)
    if skip:
        return skip
    utc = time_zone is None or time_zone == "UTC"  # the common case, without a call per layer
    kind = metric_type(metric)
    # (reason, wait, which past prompts count); the sentence is only written for a skip.
    layers = ((RECONTACT_WAIT, policy.recontact_wait, None), (TYPE_WAIT, policy.type_wait, kind),
              (SURVEY_WAIT, policy.survey_wait, survey_id))
    for reason, wait, scope in layers:
        if wait is None:
            continue
        since = now - wait if utc else span_start(now, wait, time_zone)
        for t, p in contacts:
            if reason == RECONTACT_WAIT or (p.survey_id == scope if reason == SURVEY_WAIT
                                            else metric_type(p.metric) == scope):
                if t > since:
                    return Skip(reason, f"{_subject(reason, scope)} {_contact_verb(p)} {_ago(now - t)}, "
                                        f"wait is {_span(wait)}")
                break  # only the latest matching contact counts
    return None


def _first_item(pair: tuple[float, Any]) -> float:
    return pair[0]


def _subject(reason: str, scope: Any) -> str:
    if reason == RECONTACT_WAIT:
        return "last prompt"
    return f"last {scope} prompt" if reason == TYPE_WAIT else f"survey {scope} last"


def check_quota(quota: SurveyQuota, counts: SurveyCounts, time_zone: str | None = None) -> Skip | None:
    """Why the survey asks nobody right now, or None.

    Totals first: they never roll over, so they are the more lasting reason.
    Answer quotas stop new prompts once reached; prompts already out may still be
    answered, so an answer quota can be exceeded by the prompts in flight.
    """
    zone = time_zone or "UTC"
    checks = (
        (quota.max_answers_total, counts.answers_total, "answers in total"),
        (quota.max_prompts_total, counts.prompts_total, "prompts in total"),
        (quota.max_answers_per_day, counts.answers_today, f"answers today ({zone})"),
        (quota.max_prompts_per_day, counts.prompts_today, f"prompts today ({zone})"),
    )
    for limit, count, what in checks:
        if limit is not None and count >= limit:
            return Skip(QUOTA_REACHED, f"{count} {what}, quota is {limit}")
    return None


def check_all(policy: FatiguePolicy, history: UserHistory, survey_id: SurveyId, metric: str,
              now: float, quota: SurveyQuota | None = None,
              counts: SurveyCounts | None = None) -> Skip | None:
    """check() then check_quota(): the documented precedence in one call."""
    skip = check(policy, history, survey_id, metric, now)
    if skip is None and quota is not None:
        skip = check_quota(quota, counts or SurveyCounts())
    return skip


def utc_day_start(now: float) -> float:
    """Epoch seconds of 00:00 UTC on the day containing `now` (for prompts_today)."""
    day = datetime.fromtimestamp(now, tz=timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return day.timestamp()


def _check_open(prompts: Sequence[PastPrompt]) -> Skip | None:
    p = None  # the latest open prompt (the first of equals)
    for prompt in prompts:
        if prompt.status in OPEN_STATUSES and (p is None or prompt.created_at > p.created_at):
            p = prompt
    if p is None:
        return None
    name = f"prompt {p.prompt_id} " if p.prompt_id else "a prompt "
    return Skip(PROMPT_OPEN, f"{name}for survey {p.survey_id} is still open ({p.status})")


def _check_cap(policy: FatiguePolicy, contacts: Sequence[tuple[float, PastPrompt]],
               now: float, time_zone: str | None = None) -> Skip | None:
    if policy.max_prompts is None or policy.max_prompts_window is None:
        return None
    window = policy.max_prompts_window
    since = now - window if time_zone is None or time_zone == "UTC" else span_start(now, window, time_zone)
    n = sum(1 for t, _ in contacts if t > since)
    if n >= policy.max_prompts:
        return Skip(USER_CAP, f"{n} prompts in the last {_span(window)}, cap is {policy.max_prompts}")
    return None


def _contact_verb(p: PastPrompt) -> str:
    if p.shown_at is not None:
        return "shown"
    if p.status in CLOSED_STATUSES and p.closed_at is not None and p.status != "expired":
        return p.status
    return "issued"


# --------------------------------------------------------------------------- wording

_UNITS = ((DAY, "day"), (3600, "hour"), (60, "minute"), (1, "second"))


def _plural(n: int, unit: str) -> str:
    # Whole numbers as they are: "3 days", "31622400 seconds" (never "3.16224e+07 seconds").
    return f"{int(n)} {unit}" + ("" if n == 1 else "s")


def _ago(seconds: float) -> str:
    """An elapsed time, rounded down to its largest unit: "3 days ago"."""
    seconds = max(0.0, seconds)
    for size, unit in _UNITS:
        if seconds >= size:
            return _plural(int(seconds // size), unit) + " ago"
    return "just now"


def _span(seconds: int) -> str:
    """A configured duration, exact: "30 days", "36 hours", "90 seconds"."""
    if seconds == 0:
        return "0 seconds"
    for size, unit in _UNITS:
        if seconds % size == 0:
            return _plural(seconds // size, unit)
    return _plural(seconds, "second")


# --------------------------------------------------------------------------- JSON

_POLICY_DURATIONS = ("recontact_wait", "type_wait", "survey_wait", "max_prompts_window", "min_visit_seconds")
_POLICY_COUNTS = ("max_prompts", "max_prompts_per_visit")
_POLICY_FLAGS = ("one_open", "count_answered", "count_dismissed", "count_expired")
_QUOTA_COUNTS = ("max_answers_per_day", "max_prompts_per_day", "max_answers_total", "max_prompts_total")


def validate_policy(d: Any) -> dict[str, Any]:
    """Marshmallow-style errors for a policy as JSON (seconds); {} when valid.

    Missing keys take their defaults, so {} is the default policy.
    """
    if not isinstance(d, Mapping):
        return {"_schema": ["Invalid input type."]}
    errors: dict[str, Any] = {}
    known = {f.name for f in fields(FatiguePolicy)}
    for key, value in d.items():
        if key not in known:
            errors[str(key)] = ["Unknown field."]
        elif key in _POLICY_DURATIONS:
            minimum = 1 if key == "max_prompts_window" else 0
            msg = _int_error(value, minimum, MAX_SECONDS, "seconds")
            if msg:
                errors[key] = [msg]
        elif key in _POLICY_COUNTS:
            msg = _int_error(value, 0, MAX_COUNT, "count")
            if msg:
                errors[key] = [msg]
        elif not isinstance(value, bool):
            errors[key] = ["Not a valid boolean."]
    # A cap needs a window: "3 prompts" alone is ambiguous.
    max_prompts = d.get("max_prompts", FatiguePolicy.max_prompts)
    window = d.get("max_prompts_window", FatiguePolicy.max_prompts_window)
    if max_prompts is not None and window is None and "max_prompts_window" not in errors:
        errors["max_prompts_window"] = ["Required when max_prompts is set."]
    return errors


def policy_from_dict(d: Mapping[str, Any]) -> FatiguePolicy:
    """A FatiguePolicy from JSON; ValueError (carrying the errors) when invalid."""
    errors = validate_policy(d)
    if errors:
        raise ValueError(errors)
    return FatiguePolicy(**d)


def validate_quota(d: Any) -> dict[str, Any]:
    """Marshmallow-style errors for a quota as JSON; {} when valid."""
    if not isinstance(d, Mapping):
        return {"_schema": ["Invalid input type."]}
    errors: dict[str, Any] = {}
    for key, value in d.items():
        if key not in _QUOTA_COUNTS:
            errors[str(key)] = ["Unknown field."]
            continue
        msg = _int_error(value, 0, MAX_COUNT, "count")
        if msg:
            errors[key] = [msg]
    return errors


def quota_from_dict(d: Mapping[str, Any]) -> SurveyQuota:
    errors = validate_quota(d)
    if errors:
        raise ValueError(errors)
    return SurveyQuota(**d)


def _int_error(value: Any, minimum: int, maximum: int, what: str) -> str | None:
    if value is None:
        return None
    # Integers only: bools are ints in Python, and 1.5 seconds is not a setting.
    if isinstance(value, bool) or not isinstance(value, int):
        return f"Must be an integer ({what}) or null."
    if not minimum <= value <= maximum:
        return f"Must be between {minimum} and {maximum}."
    return None
