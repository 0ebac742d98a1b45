"""Alerts and digests: a site's settings for them, the periods they cover, the test that decides
a score has dropped, and the Slack-compatible text. Pure: no SQL, no network.

* `score.dropped`: the survey's score over the last `period_days` whole days (local midnights in
  the site's time zone) against the `period_days` before. It fires when `scoring.compare` says
  the difference is significant (its 95 % interval excludes 0), it is a fall, and both periods
  have at least `min_n` answers. Once per period end: the job records what it sent.
* digest: `daily` (yesterday against the day before) or `weekly` (the 7 days to the last
  `weekday` against the 7 before), sent at `hour` o'clock in the site's time zone or later.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .scoring import Difference, Score, compare
from .time_zones import date_start, local_date, zone

DAY = 86400
FREQUENCIES = ("off", "daily", "weekly")


@dataclass(frozen=True)
class DropSettings:
    enabled: bool = True
    period_days: int = 7
    min_n: int = 30


@dataclass(frozen=True)
class DigestSettings:
    frequency: str = "weekly"
    hour: int = 9          # local hour from which the digest is sent
    weekday: int = 1       # ISO weekday of a weekly digest, 1 = Monday
    top: int = 3           # drivers and themes listed per survey


@dataclass(frozen=True)
class AlertSettings:
    score_dropped: DropSettings = field(default_factory=DropSettings)
    digest: DigestSettings = field(default_factory=DigestSettings)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class SettingsError(ValueError):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path, self.message = path, message


def _int(section: str, key: str, value: Any, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise SettingsError(f"{section}.{key}", f"must be an integer from {low} to {high}")
    return value


_DROP = {"enabled", "period_days", "min_n"}
_DIGEST = {"frequency", "hour", "weekday", "top"}


def settings_from_dict(raw: Any) -> AlertSettings:
    """Validated settings; keys left out take their defaults. SettingsError names the bad key."""
    if raw is None:
        return AlertSettings()
    if not isinstance(raw, Mapping):
        raise SettingsError("alerts", "must be an object")
    unknown = set(raw) - {"score_dropped", "digest"}
    if unknown:
        raise SettingsError(sorted(unknown)[0], "unknown key (score_dropped, digest)")
    drop_raw, digest_raw = raw.get("score_dropped", {}), raw.get("digest", {})
    for name, section, keys in (("score_dropped", drop_raw, _DROP), ("digest", digest_raw, _DIGEST)):
        if not isinstance(section, Mapping):
            raise SettingsError(name, "must be an object")
        extra = set(section) - keys
        if extra:
            raise SettingsError(f"{name}.{sorted(extra)[0]}", f"unknown key ({', '.join(sorted(keys))})")
    d = DropSettings()
    enabled = drop_raw.get("enabled", d.enabled)
    if not isinstance(enabled, bool):
        raise SettingsError("score_dropped.enabled", "must be true or false")
    drop = DropSettings(enabled, _int("score_dropped", "period_days", drop_raw.get("period_days", d.period_days), 1, 90),
                        _int("score_dropped", "min_n", drop_raw.get("min_n", d.min_n), 2, 1_000_000))
    g = DigestSettings()
    frequency = digest_raw.get("frequency", g.frequency)
    if frequency not in FREQUENCIES:
        raise SettingsError("digest.frequency", f"must be one of {', '.join(FREQUENCIES)}")
    digest = DigestSettings(frequency, _int("digest", "hour", digest_raw.get("hour", g.hour), 0, 23),
                            _int("digest", "weekday", digest_raw.get("weekday", g.weekday), 1, 7),
                            _int("digest", "top", digest_raw.get("top", g.top), 1, 10))
    return AlertSettings(drop, digest)


# -- periods ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Periods:
    previous_start: float
    start: float          # = previous end
    end: float


def drop_periods(now: float, tz: str, days: int) -> Periods:
    """The last `days` whole local days before today, and the `days` before them."""
    today = local_date(now, tz)
    end = date_start(today, tz)
    start = date_start(today - timedelta(days=days), tz)
    return Periods(date_start(today - timedelta(days=2 * days), tz), start, end)


def digest_periods(now: float, tz: str, s: DigestSettings) -> Periods | None:
    """The digest's period that has ended and is due by now (None when off or not due yet today)."""
    if s.frequency == "off":
        return None
    today = local_date(now, tz)
    due_today = datetime(today.year, today.month, today.day, s.hour, tzinfo=zone(tz)).timestamp()
    if s.frequency == "daily":
        end_day = today if now >= due_today else today - timedelta(days=1)
        length = 1
    else:
        back = (today.isoweekday() - s.weekday) % 7
        end_day = today - timedelta(days=back)
        if back == 0 and now < due_today:
            end_day -= timedelta(days=7)
        length = 7
    return Periods(date_start(end_day - timedelta(days=2 * length), tz),
                   date_start(end_day - timedelta(days=length), tz), date_start(end_day, tz))


# -- the test ---------------------------------------------------------------------------------------

def dropped(previous: Score, current: Score, min_n: int) -> Difference | None:
    """The significant fall from `previous` to `current`, or None (too few answers, no significant
    difference, or a rise)."""
    if previous.n < min_n or current.n < min_n:
        return None
    d = compare(previous, current)
    if d.significant and d.difference is not None and d.difference < 0:
        return d
    return None


# -- text ---------------------------------------------------------------------------------------

def _fmt(x: float | None, unit: str) -> str:
    return "–" if x is None else f"{x:.1f}{unit}"


def _unit(headline_name: str) -> str:
    return "" if headline_name == "mean_ease" else " %"


def drop_text(survey_name: str, period_label: str, d: Difference) -> str:
    """One Slack-compatible line (mrkdwn) for a `score.dropped`."""
    unit = _unit(d.headline_name)
    ci = d.ci
    span = "" if ci is None else f" (95 % interval {ci.low:.1f} to {ci.high:.1f})"
    return (f":small_red_triangle_down: *{survey_name}*: {d.headline_name} fell from {_fmt(d.a, unit)} to "
            f"{_fmt(d.b, unit)}{span} over {period_label}, on {d.n_b} answers against {d.n_a}.")


def digest_text(site_name: str, period_label: str, surveys: Sequence[Mapping[str, Any]]) -> str:
    """The digest as Slack-compatible text: per survey its score, change, top themes and drivers.

    Each survey: name, headline_name, score (Score), difference (Difference or None),
    drivers [(label, difference in points)], themes [(label, count)] or None when no themes exist.
    """
    lines = [f"*Effort digest: {site_name}*, {period_label}"]
    if not surveys:
        lines.append("No survey answered in this period.")
    for s in surveys:
        score: Score = s["score"]
        unit = _unit(score.headline_name)
        head = f"• *{s['name']}*: {score.headline_name} {_fmt(score.headline, unit)} on {score.n} answers"
        d: Difference | None = s.get("difference")
        if d is not None and d.difference is not None:
            arrow = "▲" if d.difference > 0 else "▼" if d.difference < 0 else "="
            sig = ", significant" if d.significant else ", within noise"
            head += f", {arrow} {d.difference:+.1f}{unit.strip() and ' pts' or ''} against the period before{sig}"
        lines.append(head)
        if s.get("themes"):
            lines.append("    Top themes: " + ", ".join(f"{label} ({n})" for label, n in s["themes"]))
        if s.get("drivers"):
            lines.append("    Top drivers: " + ", ".join(f"{label} ({diff:+.1f})" for label, diff in s["drivers"]))
    return "\n".join(lines)
