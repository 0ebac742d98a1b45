"""Events in, decisions out: the one path every event takes, from the site's backend or the widget.

A batch is decided and recorded in one immediate transaction, so two processes or threads can
never both see "no open prompt" for the same user and both ask. Prompts are pushed to sockets
only after the commit.
"""
from __future__ import annotations

import uuid
from typing import Any, Mapping, Sequence

from .core.decision import Decision, decide, skip
from .delivery import push_prompt
from .services import Services


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


def _allowed(trigger: Mapping[str, Any], source: str) -> bool:
    return source == "backend" or trigger.get("source") == "any"


def _decide_one(services: Services, db: Any, site: Mapping[str, Any], event: Mapping[str, Any],
                source: str, now: float, trigger_cache: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    storage = services.storage
    event_id = event.get("event_id") or uuid.uuid4().hex
    seen = storage.event_by_id(site["id"], event_id)
    if seen is not None:
        return {"event_id": event_id, "decision": "skip", "reason": "duplicate_event",
                "detail": f"event {event_id} was already received", "prompt_id": seen["prompt_id"]}

    name, user_id = event["name"], event["user_id"]
    if name not in trigger_cache:
        trigger_cache[name] = storage.active_triggers(site["id"], name)
    triggers = trigger_cache[name]
    usable = [t for t in triggers if _allowed(t, source)]
    if triggers and not usable:
        decision: Decision = skip("source_not_allowed", f"triggers for '{name}' accept backend events only",
                                  triggers[0])
    else:
        open_prompt = storage.open_prompt(site["id"], user_id, now)
        decision = decide(name, usable, storage.last_shown_at(site["id"], user_id),
                          open_prompt["id"] if open_prompt else None, now)

    prompt_id = None
    if decision.prompted:
        trigger = next(t for t in usable if t["id"] == decision.trigger_id)
        prompt_id = storage.insert_prompt(db, {
            "site_id": site["id"], "user_id": user_id, "survey_id": decision.survey_id,
            "trigger_id": decision.trigger_id, "created_at": now,
            "deliver_after": now + (trigger.get("delay_seconds") or 0),
            "expires_at": now + (trigger.get("ttl_seconds") or 7 * 86400),
        })
    row_id = storage.insert_event(db, {
        "site_id": site["id"], "event_id": event_id, "user_id": user_id, "name": name,
        "properties": event.get("properties") or {}, "timestamp": event.get("timestamp") or now,
        "received_at": now, "source": source, "decision": decision.decision, "reason": decision.reason,
        "detail": decision.detail, "trigger_id": decision.trigger_id, "prompt_id": prompt_id,
    })
    if prompt_id:
        db.execute("update prompts set event_row = ? where id = ?", [row_id, prompt_id])
    return {"event_id": event_id, "decision": decision.decision, "reason": decision.reason,
            "detail": decision.detail, "prompt_id": prompt_id}


def ingest(services: Services, site: Mapping[str, Any], events: Sequence[Mapping[str, Any]],
           source: str = "backend", dry_run: bool = False) -> list[dict[str, Any]]:
    """Decide and record every event; push the prompts that are due. Events are already validated."""
    now = services.now()
    trigger_cache: dict[str, list[dict[str, Any]]] = {}
    results: list[dict[str, Any]] = []
    try:
        with services.storage.write() as db:
            for event in events:
                results.append(_decide_one(services, db, site, event, source, now, trigger_cache))
            if dry_run:
                raise _DryRun
    except _DryRun:
        return results
    _dispatch(services, [r["prompt_id"] for r in results if r["prompt_id"] and r["reason"] == "prompted"])
    return results


def _dispatch(services: Services, prompt_ids: list[str]) -> None:
    for prompt_id in prompt_ids:
        prompt = services.storage.get_prompt(prompt_id)
        if prompt is None:
            continue
        if prompt["deliver_after"] <= services.now():
            push_prompt(services, prompt_id)
        elif services.scheduler is not None:
            services.scheduler.schedule(prompt["deliver_after"], prompt_id)
