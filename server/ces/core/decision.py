"""Whether this event should ask this user now: the spine's rule (event name + recontact wait).

Pure: the caller passes the matching triggers and the user's history; we return a Decision
with a machine-readable reason and a sentence for people.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .durations import human


@dataclass(frozen=True)
class Decision:
    decision: str            # "prompt" or "skip"
    reason: str              # machine-readable, see docs/decisions.md
    detail: str
    trigger_id: int | None = None
    survey_id: int | None = None

    @property
    def prompted(self) -> bool:
        return self.decision == "prompt"


def skip(reason: str, detail: str, trigger: Mapping[str, Any] | None = None) -> Decision:
    return Decision("skip", reason, detail, trigger["id"] if trigger else None,
                    trigger["survey_id"] if trigger else None)


def decide(event_name: str, triggers: Sequence[Mapping[str, Any]], last_shown_at: float | None,
           open_prompt_id: str | None, now: float) -> Decision:
    """Triggers come in priority order; the first one whose checks pass asks its survey."""
    if not triggers:
        return skip("no_trigger", f"no active trigger for event '{event_name}'")
    trigger = triggers[0]
    if open_prompt_id:
        return skip("prompt_open", f"prompt {open_prompt_id} is still open for this user", trigger)
    wait = trigger.get("recontact_wait") or 0
    if last_shown_at is not None and now - last_shown_at < wait:
        return skip("recontact_wait",
                    f"last prompt shown {human(now - last_shown_at)} ago, wait is {human(wait)}", trigger)
    return Decision("prompt", "prompted", f"trigger {trigger['id']} asks survey {trigger['survey_id']}",
                    trigger["id"], trigger["survey_id"])
