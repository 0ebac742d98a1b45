"""How long a site keeps what it stores: the retention policy and the cut-off times it gives.

Pure: no Flask, no SQL. A site's policy lives in its settings as `{"retention": {...}}`:

    events_days     events (each with its decision) received more than N days ago are deleted,
                    with the prompts that were never answered; traits not updated for N days too.
                    Default 90.
    answers         what becomes of answers older than `answers_days`: "keep" (default),
                    "anonymise" (the user id becomes a random token in the answer, its prompt and
                    its event; scores, comments and event properties stay, so reports over the
                    past stay right) or "delete" (the answer, its prompt and event go, and the
                    reports no longer count them).
    answers_days    default 365.

Nothing the fatigue policy still needs is touched: a prompt counts towards the recontact waits
and caps for `FatiguePolicy.lookback()` seconds, so prompts (and the answers on them) are kept at
least that long whatever the days say. Open prompts are never touched.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping, NamedTuple

DAY = 86_400
ANSWER_MODES = ("keep", "anonymise", "delete")
MAX_DAYS = 100 * 366


@dataclass(frozen=True)
class RetentionPolicy:
    events_days: int = 90
    answers: str = "keep"
    answers_days: int = 365

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Cutoffs(NamedTuple):
    """Epoch seconds: rows older than these go (answers: None = kept)."""
    events: float          # events received before
    prompts: float         # unanswered closed prompts closed before
    traits: float          # traits last updated before
    answers: float | None  # answers created before (None: answers are kept)


def _days_error(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "Must be a positive whole number of days."
    if not 1 <= value <= MAX_DAYS:
        return f"Must be a positive whole number of days, at most {MAX_DAYS}."
    return None


def validate(data: Any) -> dict[str, list[str]]:
    """Marshmallow-style errors for a policy as JSON; {} when valid. Missing keys take their defaults."""
    if not isinstance(data, Mapping):
        return {"_schema": ["Must be a JSON object."]}
    errors: dict[str, list[str]] = {}
    for key, value in data.items():
        if key in ("events_days", "answers_days"):
            problem = _days_error(value)
            if problem:
                errors[key] = [problem]
        elif key == "answers":
            if value not in ANSWER_MODES:
                errors[key] = [f"Must be one of: {', '.join(ANSWER_MODES)}."]
        else:
            errors[str(key)] = ["Unknown field."]
    return errors


def policy_from_dict(data: Mapping[str, Any] | None) -> RetentionPolicy:
    """The policy stored in a site's settings (validated when stored; defaults for what is missing)."""
    data = dict(data or {})
    if validate(data):
        raise ValueError(f"invalid retention policy: {validate(data)}")
    return RetentionPolicy(**data)


def cutoffs(policy: RetentionPolicy, now: float, fatigue_lookback: float | None) -> Cutoffs:
    """When rows become too old to keep under `policy`, at `now`.

    Prompts, and the answers on them, are kept at least `fatigue_lookback` seconds (the span the
    fatigue policy reads back): deleting them sooner would let a user be asked again early.
    """
    keep_prompts = max(policy.events_days * DAY, fatigue_lookback or 0)
    answers = None
    if policy.answers != "keep":
        answers = now - max(policy.answers_days * DAY, fatigue_lookback or 0)
    return Cutoffs(events=now - policy.events_days * DAY, prompts=now - keep_prompts,
                   traits=now - policy.events_days * DAY, answers=answers)
