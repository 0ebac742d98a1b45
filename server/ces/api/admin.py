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

from .. import audit
from ..delivery import survey_screens_changed
from ..core.fatigue import SurveyQuota
from ..storage import Storage
from .admin_schemas import (
    DecisionsQuerySchema, ListQuerySchema, SurveySchema, TriggerListQuerySchema, TriggerSchema,
)
from .auth import current_scope
from .body import json_object
from .errors import ApiError, not_found

bp = Blueprint("admin", __name__, url_prefix="/api/v1")

SURVEY_FIELDS = ("site_id", "slug", "name", "metric", "default_locale", "texts", "followup_max_score", "appearance",
                 "quota", "status")
TRIGGER_FIELDS = ("site_id", "slug", "name", "event_name", "survey_id", "conditions", "source", "sample_rate", "variants",
                  "delay_seconds", "ttl_seconds", "transaction_key", "priority", "status",
                  "occurrences", "cancel_events", "cancel_same_transaction")


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


def _load_update(schema: Schema, body: dict[str, Any], kind: str) -> dict[str, Any]:
    """A PUT or PATCH body loaded; `site_id` cannot change, refused together with any other field's error."""
    moved = {"site_id": [f"A {kind} cannot move to another site."]} if "site_id" in body else {}
    try:
        data = schema.load({k: v for k, v in body.items() if k != "site_id"})
    except ValidationError as err:
        raise ValidationError({**err.normalized_messages(), **moved}) from None
    if moved:
        raise ValidationError(moved)
    return data


def _check_slug(table: str, site_id: int, slug: str | None, row_id: int | None = None) -> None:
    """A slug names one survey (or trigger) of its site: taken by another row is a 400."""
    if slug is not None and _storage().one(f"select id from {table} where site_id = ? and slug = ? "
                                           "and id is not ?", [site_id, slug, row_id]):
        raise ValidationError({"slug": [f"Already used by another {table[:-1]} of site {site_id}."]})


# --------------------------------------------------------------------------- shapes

def survey_json(row: dict[str, Any]) -> dict[str, Any]:
    quota = {**SurveyQuota().as_dict(), **(row.get("quota") or {})}
    return {"id": row["id"], **{k: row.get(k) for k in SURVEY_FIELDS if k != "quota"}, "quota": quota,
            "created_at": iso(row.get("created_at")), "updated_at": iso(row.get("updated_at"))}


def trigger_json(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row["id"], **{k: row.get(k) for k in TRIGGER_FIELDS}}
    out["conditions"] = out["conditions"] or None
    out["variants"] = out["variants"] or []
    out["sample_rate"] = float(out["sample_rate"]) if out["sample_rate"] is not None else 100.0
    out["occurrences"], out["cancel_events"] = out["occurrences"] or [], out["cancel_events"] or []
    out["cancel_same_transaction"] = bool(out["cancel_same_transaction"])
    out["created_at"], out["updated_at"] = iso(row.get("created_at")), iso(row.get("updated_at"))
    return out


def _writable(row: dict[str, Any], names: tuple[str, ...], shape: Any) -> dict[str, Any]:
    """The stored resource as a body the schema accepts (for PATCH: merge, then validate all)."""
    public = shape(row)
    return {k: public[k] for k in names if k != "site_id"}


# --------------------------------------------------------------------------- surveys

def _check_survey(data: dict[str, Any]) -> dict[str, Any]:
    data["site_id"] = _site_id(data.get("site_id"))
    data["quota"] = {k: v for k, v in (data.get("quota") or {}).items() if v is not None}
    _check_slug("surveys", data["site_id"], data.get("slug"))
    if data.get("slug") is None:
        data.pop("slug", None)  # the database gives it one
    return data


@bp.get("/surveys")
def list_surveys():
    q = _query(ListQuerySchema())
    site = current_scope().site_filter(q["site"])
    filters = {k: v for k, v in (("site_id", site), ("status", q["status"])) if v is not None}
    rows, total = _storage().list_rows("surveys", filters, q["limit"], q["offset"])
    return jsonify(items=[survey_json(r) for r in rows], total=total)


@bp.post("/surveys")
def create_survey():
    data = _check_survey(SurveySchema().load(json_object()))
    site_id = data.pop("site_id")
    row = _storage().create_survey(site_id, _now(), **data)
    _audit("survey.create", f"survey:{row['id']}", {"site_id": site_id, "name": row["name"]})
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
    row = _survey_or_404(survey_id)
    body = json_object()
    merged = {**_writable(row, SURVEY_FIELDS, survey_json), **body} if partial else body
    data = _load_update(SurveySchema(), merged, "survey")
    data.pop("site_id", None)
    _check_slug("surveys", row["site_id"], data.get("slug"), survey_id)
    if data.get("slug") is None:
        data.pop("slug", None)  # left out of a PUT: the slug stays
    data["quota"] = {k: v for k, v in (data.get("quota") or {}).items() if v is not None}
    row = _storage().update_row("surveys", survey_id, data, _now())
    _audit("survey.update", f"survey:{survey_id}", {"fields": sorted(body)})
    return jsonify(survey_json(row))  # type: ignore[arg-type]


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

def _check_trigger(data: dict[str, Any], site_id: int | None, trigger_id: int | None = None) -> dict[str, Any]:
    """The ids a trigger refers to exist, on the trigger's site (400 naming the field)."""
    storage = _storage()
    scope = current_scope()
    survey = storage.get_row("surveys", data["survey_id"])
    if survey is not None and not scope.sees(survey["site_id"]):
        survey = None  # another site's survey is an unknown one
    if site_id is None:
        site_id = data.get("site_id")
        if site_id is not None and (storage.get_site(site_id) is None or not scope.sees(site_id)):
            raise ValidationError({"site_id": [f"Unknown site {site_id}."]})
        if site_id is None:
            if survey is None:
                raise ValidationError({"survey_id": [f"Unknown survey {data['survey_id']}."]})
            site_id = survey["site_id"]
    if survey is None or survey["site_id"] != site_id:
        raise ValidationError({"survey_id": [f"Unknown survey {data['survey_id']} on site {site_id}."]})
    errors = {}
    for i, variant in enumerate(data.get("variants") or []):
        other = storage.get_row("surveys", variant["survey_id"])
        if other is None or other["site_id"] != site_id:
            errors[str(i)] = {"survey_id": [f"Unknown survey {variant['survey_id']} on site {site_id}."]}
    if errors:
        raise ValidationError({"variants": errors})
    _check_slug("triggers", site_id, data.get("slug"), trigger_id)
    if data.get("slug") is None:
        data.pop("slug", None)
    data["site_id"] = site_id
    data["conditions"] = data.get("conditions") or None
    return data


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
    data = _check_trigger(TriggerSchema().load(json_object()), None)
    site_id = data.pop("site_id")
    if not data["name"]:
        data["name"] = f"Ask after {data['event_name']}"
    row = _storage().create_trigger(site_id, _now(), **data)
    _audit("trigger.create", f"trigger:{row['id']}", {"site_id": site_id, "event_name": row["event_name"]})
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
    row = _trigger_or_404(trigger_id)
    body = json_object()
    merged = {**_writable(row, TRIGGER_FIELDS, trigger_json), **body} if partial else body
    data = _check_trigger(_load_update(TriggerSchema(), merged, "trigger"), row["site_id"], trigger_id)
    data.pop("site_id")
    if not data["name"]:
        data["name"] = f"Ask after {data['event_name']}"
    row = _storage().update_row("triggers", trigger_id, data, _now())
    _audit("trigger.update", f"trigger:{trigger_id}", {"fields": sorted(body)})
    return jsonify(trigger_json(row))  # type: ignore[arg-type]


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
