"""The admin API: surveys, triggers, sites' fatigue policies and users' decisions (admin token).

One shape for every resource: an object with its `id` for one, `{"items": [...], "total": n}`
for a list (`total` counts every match, `items` is the page asked for with `limit`/`offset`).
Times are ISO 8601 in UTC. A refused request (400, 404, 409) changes nothing: bodies are
validated completely, including the ids they refer to, before anything is written.
Nothing here is cached: the next event, on any process, reads the triggers as they now are.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from marshmallow import Schema, ValidationError

from .. import audit, rules_editing
from ..rules_editing import SURVEY_FIELDS, TRIGGER_FIELDS, survey_json, trigger_json  # noqa: F401 (re-exported)
from ..delivery import survey_screens_changed
from ..storage import Storage
from .admin_schemas import DecisionsQuerySchema, ListQuerySchema, TriggerListQuerySchema
from .auth import current_scope
from .body import json_object
from .errors import ApiError, not_found

bp = Blueprint("admin", __name__, url_prefix="/api/v1")

@bp.before_request
def _authenticate() -> None:
    current_scope()  # the token, and what its scope reaches of this request (api/auth.py)


def _storage() -> Storage:
    return current_app.extensions["ces"].storage


def _now() -> float:
    return current_app.extensions["ces"].now()


def iso(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _query(schema: Schema) -> dict[str, Any]:
    try:
        return schema.load(request.args)
    except ValidationError as err:
        raise ApiError(400, "validation_error", "Invalid query string.", err.normalized_messages()) from err


def _site_id(given: int | None, field: str = "site_id") -> int:
    """The site a request is about: the one named, or the only one (the token's, for a token of
    one site); 400 naming `field` otherwise, also for a site the token does not reach."""
    storage = _storage()
    scope = current_scope()
    if given is not None:
        if storage.get_site(given) is None or not scope.sees(given):
            raise ValidationError({field: [f"Unknown site {given}."]})
        return given
    if scope.site_id is not None:
        return scope.site_id
    sites = storage.list_sites()
    if len(sites) == 1:
        return sites[0]["id"]
    raise ValidationError({field: ["Required when there are several sites."]})


def _audit(action: str, target: str, detail: Any = None) -> None:
    """The change just made, in the audit log (who: the calling token)."""
    audit.record(_storage(), audit.http_actor(), action, target, detail, _now())


def _not_found(kind: str, row_id: Any) -> ApiError:
    return not_found(kind, row_id)


def _actor() -> audit.Actor:
    return audit.http_actor()


def _reach() -> rules_editing.Reach:
    """What the calling token reaches, for the service (rules_editing.py)."""
    scope = current_scope()
    return rules_editing.Reach(scope.sees, scope.site_id)


# --------------------------------------------------------------------------- surveys

@bp.get("/surveys")
def list_surveys():
    q = _query(ListQuerySchema())
    site = current_scope().site_filter(q["site"])
    filters = {k: v for k, v in (("site_id", site), ("status", q["status"])) if v is not None}
    rows, total = _storage().list_rows("surveys", filters, q["limit"], q["offset"])
    return jsonify(items=[survey_json(r) for r in rows], total=total)


@bp.post("/surveys")
def create_survey():
    row = rules_editing.create_survey(_storage(), _actor(), _reach(), json_object(), _now())
    return jsonify(survey_json(row)), 201


def _survey_or_404(survey_id: int) -> dict[str, Any]:
    row = _storage().get_row("surveys", survey_id)
    if row is None:
        raise _not_found("survey", survey_id)
    return row


@bp.get("/surveys/<int:survey_id>")
def get_survey(survey_id: int):
    return jsonify(survey_json(_survey_or_404(survey_id)))


def _update_survey(survey_id: int, partial: bool):
    row = rules_editing.update_survey(_storage(), _actor(), _survey_or_404(survey_id), json_object(), partial, _now())
    return jsonify(survey_json(row))


@bp.patch("/surveys/<int:survey_id>")
def patch_survey(survey_id: int):
    return _update_survey(survey_id, partial=True)


@bp.put("/surveys/<int:survey_id>")
def put_survey(survey_id: int):
    return _update_survey(survey_id, partial=False)


@bp.delete("/surveys/<int:survey_id>")
def delete_survey(survey_id: int):
    _survey_or_404(survey_id)
    uses = _storage().survey_uses(survey_id)
    if uses["triggers"] or uses["prompts"]:
        raise ApiError(409, "conflict", f"Survey {survey_id} is in use ({uses['triggers']} triggers, "
                       f"{uses['prompts']} prompts): pause it instead, or delete its triggers first.")
    _storage().delete_row("surveys", survey_id)
    _audit("survey.delete", f"survey:{survey_id}")
    return "", 204


@bp.post("/surveys/<int:survey_id>/pause")
def pause_survey(survey_id: int):
    _survey_or_404(survey_id)
    row = _storage().update_row("surveys", survey_id, {"status": "paused"}, _now())
    _audit("survey.pause", f"survey:{survey_id}")
    survey_screens_changed(current_app.extensions["ces"], survey_id)  # its prompts leave the screens
    return jsonify(survey_json(row))  # type: ignore[arg-type]


@bp.post("/surveys/<int:survey_id>/resume")
def resume_survey(survey_id: int):
    _survey_or_404(survey_id)
    row = _storage().update_row("surveys", survey_id, {"status": "active"}, _now())
    _audit("survey.resume", f"survey:{survey_id}")
    survey_screens_changed(current_app.extensions["ces"], survey_id)  # and come back
    return jsonify(survey_json(row))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- triggers

@bp.get("/triggers")
def list_triggers():
    q = _query(TriggerListQuerySchema())
    site = current_scope().site_filter(q["site"])
    filters = {k: v for k, v in (("site_id", site), ("status", q["status"]), ("event_name", q["event_name"]),
                                 ("survey_id", q["survey_id"])) if v is not None}
    rows, total = _storage().list_rows("triggers", filters, q["limit"], q["offset"])
    return jsonify(items=[trigger_json(r) for r in rows], total=total)


@bp.post("/triggers")
def create_trigger():
    row = rules_editing.create_trigger(_storage(), _actor(), _reach(), json_object(), _now())
    return jsonify(trigger_json(row)), 201


def _trigger_or_404(trigger_id: int) -> dict[str, Any]:
    row = _storage().get_row("triggers", trigger_id)
    if row is None:
        raise _not_found("trigger", trigger_id)
    return row


@bp.get("/triggers/<int:trigger_id>")
def get_trigger(trigger_id: int):
    return jsonify(trigger_json(_trigger_or_404(trigger_id)))


def _update_trigger(trigger_id: int, partial: bool):
    row = rules_editing.update_trigger(_storage(), _actor(), _reach(), _trigger_or_404(trigger_id), json_object(),
                                       partial, _now())
    return jsonify(trigger_json(row))


@bp.patch("/triggers/<int:trigger_id>")
def patch_trigger(trigger_id: int):
    return _update_trigger(trigger_id, partial=True)


@bp.put("/triggers/<int:trigger_id>")
def put_trigger(trigger_id: int):
    return _update_trigger(trigger_id, partial=False)


@bp.delete("/triggers/<int:trigger_id>")
def delete_trigger(trigger_id: int):
    _trigger_or_404(trigger_id)
    _storage().delete_row("triggers", trigger_id)
    _audit("trigger.delete", f"trigger:{trigger_id}")
    return "", 204


@bp.post("/triggers/<int:trigger_id>/pause")
def pause_trigger(trigger_id: int):
    _trigger_or_404(trigger_id)
    row = _storage().update_row("triggers", trigger_id, {"status": "paused"}, _now())
    _audit("trigger.pause", f"trigger:{trigger_id}")
    return jsonify(trigger_json(row))  # type: ignore[arg-type]


@bp.post("/triggers/<int:trigger_id>/resume")
def resume_trigger(trigger_id: int):
    _trigger_or_404(trigger_id)
    row = _storage().update_row("triggers", trigger_id, {"status": "active"}, _now())
    _audit("trigger.resume", f"trigger:{trigger_id}")
    return jsonify(trigger_json(row))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- sites: api/sites.py

# --------------------------------------------------------------------------- decisions

@bp.get("/users/<path:user_id>/decisions")
def user_decisions(user_id: str):
    q = _query(DecisionsQuerySchema())
    try:
        site_id = _site_id(q["site"], "site")
    except ValidationError as err:
        raise ApiError(400, "validation_error", "Invalid query string.", err.normalized_messages()) from err
    rows, total = _storage().user_decisions(site_id, user_id, q["limit"])
    items = [{"event_id": r["event_id"], "name": r["name"], "source": r["source"],
              "timestamp": iso(r["timestamp"]), "received_at": iso(r["received_at"]),
              "decision": r["decision"], "reason": r["reason"], "detail": r["detail"],
              "trigger_id": r["trigger_id"], "prompt_id": r["prompt_id"], "properties": r["properties"]}
             for r in rows]
    return jsonify(user_id=user_id, site_id=site_id, items=items, total=total)
