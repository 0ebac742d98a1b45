"""What a user does with a prompt: see it, answer it, add a comment, dismiss it.

Each step checks that the prompt was issued to this very user, and writes in one immediate
transaction; the caller acknowledges only after this returns, i.e. after the commit.
"""
from __future__ import annotations

from typing import Any

from . import webhooks
from .core.metrics import get_metric
from .services import Services

CLOSED = ("answered", "dismissed", "expired")


class Refused(Exception):
    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


def _own_prompt(services: Services, site_id: int, user_id: str, prompt_id: str) -> dict[str, Any]:
    prompt = services.storage.get_prompt(prompt_id)
    # Someone else's prompt looks exactly like a missing one: ids are not confirmed to strangers.
    if prompt is None or prompt["site_id"] != site_id or prompt["user_id"] != user_id:
        raise Refused("unknown_prompt", f"No prompt {prompt_id} for this user.", "prompt")
    return prompt


def _ensure_open(prompt: dict[str, Any], now: float) -> None:
    if prompt["status"] in ("dismissed", "expired") or prompt["expires_at"] <= now:
        raise Refused("prompt_closed", f"Prompt {prompt['id']} is {prompt['status'] if prompt['status'] in CLOSED else 'expired'}.",
                      "prompt")


def shown(services: Services, site_id: int, user_id: str, prompt_id: str, locale: str | None) -> str:
    now = services.now()
    prompt = _own_prompt(services, site_id, user_id, prompt_id)
    if prompt["status"] == "answered":
        return "answered"
    _ensure_open(prompt, now)
    services.storage.mark_shown(prompt_id, now, locale)
    return "shown"


def answer(services: Services, site_id: int, user_id: str, prompt_id: str, score: int,
           comment: str | None) -> str:
    """Store the answer; "answered", or "duplicate" for a re-sent identical answer."""
    storage = services.storage
    now = services.now()
    with storage.write() as db:
        prompt = _own_prompt(services, site_id, user_id, prompt_id)
        if prompt["status"] == "answered":
            existing = storage.answer_for(prompt_id)
            if existing is not None and existing["score"] == score:
                return "duplicate"
            raise Refused("already_answered", f"Prompt {prompt_id} is already answered.", "prompt")
        _ensure_open(prompt, now)
        survey = storage.get_survey(prompt["survey_id"])
        metric = get_metric(survey["metric"])  # type: ignore[index]
        if not metric.in_scale(score):
            raise Refused("out_of_scale", f"Score must be an integer from {metric.min} to {metric.max}.", "score")
        answer_id = storage.insert_answer(db, {
            "prompt_id": prompt_id, "site_id": site_id, "survey_id": prompt["survey_id"], "user_id": user_id,
            "score": score, "comment": comment, "created_at": now,
        })
        storage.close_prompt(db, prompt_id, "answered", now)
        # The webhook outbox rows commit with the answer; nothing here touches the network.
        queued = webhooks.enqueue_answer(services, db, prompt, survey, answer_id, score, comment, now)  # type: ignore[arg-type]
    if queued:
        webhooks.notify(services)
    return "answered"


def add_comment(services: Services, site_id: int, user_id: str, prompt_id: str, comment: str) -> str:
    storage = services.storage
    with storage.write() as db:
        prompt = _own_prompt(services, site_id, user_id, prompt_id)
        existing = storage.answer_for(prompt_id) if prompt["status"] == "answered" else None
        if existing is None:
            raise Refused("not_answered", f"Prompt {prompt_id} has no answer to comment on.", "prompt")
        if existing["comment"]:
            if existing["comment"] == comment:
                return "duplicate"
            raise Refused("already_commented", f"Prompt {prompt_id} already has a comment.", "comment")
        storage.set_comment(db, prompt_id, comment)
        survey = storage.get_survey(prompt["survey_id"])
        queued = webhooks.enqueue_comment(services, db, prompt, survey, existing, comment, services.now())  # type: ignore[arg-type]
    if queued:
        webhooks.notify(services)
    return "commented"


def dismiss(services: Services, site_id: int, user_id: str, prompt_id: str) -> str:
    storage = services.storage
    now = services.now()
    with storage.write() as db:
        prompt = _own_prompt(services, site_id, user_id, prompt_id)
        if prompt["status"] == "dismissed":
            return "duplicate"
        if prompt["status"] == "answered":
            raise Refused("already_answered", f"Prompt {prompt_id} is already answered.", "prompt")
        _ensure_open(prompt, now)
        storage.close_prompt(db, prompt_id, "dismissed", now)
    return "dismissed"
