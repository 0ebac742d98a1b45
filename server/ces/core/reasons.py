"""A decision's reason code in words, for people: "Not asked: not in the trigger's sample".

The engine's `detail` says what it saw ("trigger 3 samples 50% of users; this user is not in the
sample"); the headline here says what that meant for the user, in the same words wherever a
decision is shown (the dashboard's Test page and user page, the API's explained dry runs). One
table of every reason code of docs/decisions.md; a code missing here reads as the code itself.
"""
from __future__ import annotations

from typing import Any, Mapping

# reason -> what stopped the prompt (or, for `prompted`, what happened)
TITLES: dict[str, str] = {
    "prompted": "a trigger matched and every check passed",
    "no_trigger": "no active trigger listens to this event",
    "conditions_false": "the trigger's conditions do not hold",
    "source_not_allowed": "the trigger does not accept events from the widget",
    "sampled_out": "the user is not in the trigger's sample",
    "survey_paused": "the survey is paused",
    "transaction_seen": "this transaction was already asked about",
    "prompt_open": "the user already has an open prompt",
    "user_cap": "the user reached the cap on prompts",
    "recontact_wait": "the user was contacted too recently (recontact wait)",
    "type_wait": "the user was asked about this metric too recently (type wait)",
    "survey_wait": "the user was asked by this survey too recently (survey wait)",
    "quota_reached": "the survey reached its quota",
    "occurrences_false": "the trigger's occurrence condition does not hold",
    "visit_cap": "the user reached the cap on prompts per visit",
    "visit_start": "the user's visit has only just begun",
    "duplicate_event": "this event was already received",
    "stale_event": "the event is older than the trigger's prompts live",
    "opted_out": "the user opted out of surveys",
}


def title(reason: str) -> str:
    return TITLES.get(reason, reason.replace("_", " "))


def headline(decision: Mapping[str, Any], dry_run: bool = False) -> str:
    """One sentence: would / would not be asked, and why ("Would not be asked: the user is not in
    the trigger's sample.")."""
    asked = decision.get("decision") == "prompt"
    if dry_run:
        verb = "Would be asked" if asked else "Would not be asked"
    else:
        verb = "Asked" if asked else "Not asked"
    return f"{verb}: {title(str(decision.get('reason') or ''))}."
