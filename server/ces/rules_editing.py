"""Creating and changing surveys, triggers and a site's fatigue policy: the one path the admin API
and the dashboard share.

Each function validates the whole body (marshmallow schemas of api/admin_schemas.py, the core's
validators, and the ids the body refers to) before writing anything, writes, and records the change
in the audit log. A refusal is a marshmallow `ValidationError` whose messages name the fields: the
API answers it as a 400, the dashboard shows each message next to its field. Nothing here knows
about HTTP; who may reach which site is the caller's `Reach`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from marshmallow import Schema, ValidationError

from . import audit
from .api.admin_schemas import FatiguePolicySchema, SurveySchema, TriggerSchema
from .core.fatigue import FatiguePolicy, SurveyQuota
from .storage import Storage
from .storage.slugs import slug_taken
from .user_export import iso

SURVEY_FIELDS = ("site_id", "slug", "name", "metric", "default_locale", "texts", "followup_max_score", "appearance",
                 "quota", "status")
TRIGGER_FIELDS = ("site_id", "slug", "name", "event_name", "survey_id", "conditions", "source", "sample_rate", "variants",
                  "delay_seconds", "ttl_seconds", "transaction_key", "priority", "status",
                  "occurrences", "cancel_events", "cancel_same_transaction")


@dataclass(frozen=True)
class Reach:
    """Which sites the caller may act on: `sees(site_id)`, and the site a body may leave out
    (`site_id`: the caller's only site, or None)."""
    sees: Callable[[int], bool]
    site_id: int | None = None


def _site_id(storage: Storage, reach: Reach, given: int | None, field: str = "site_id") -> int:
    """The site a body is about: the one named, or the only one the caller reaches; else a refusal."""
    if given is not None:
        if storage.get_site(given) is None or not reach.sees(given):
            raise ValidationError({field: [f"Unknown site {given}."]})
        return given
    if reach.site_id is not None:
        return reach.site_id
    sites = storage.list_sites()
    if len(sites) == 1:
        return sites[0]["id"]
    raise ValidationError({field: ["Required when there are several sites."]})


def _check_slug(storage: Storage, table: str, site_id: int, slug: str | None, row_id: int | None = None) -> None:
    if slug is not None and slug_taken(storage, table, site_id, slug, row_id):
        raise ValidationError({"slug": [f"Already used by another {table[:-1]} of site {site_id}."]})


def _load_update(schema: Schema, body: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """A PUT or PATCH body loaded; `site_id` cannot change, refused together with any other field's error."""
    moved = {"site_id": [f"A {kind} cannot move to another site."]} if "site_id" in body else {}
    try:
        data = schema.load({k: v for k, v in body.items() if k != "site_id"})
    except ValidationError as err:
        raise ValidationError({**err.normalized_messages(), **moved}) from None
    if moved:
        raise ValidationError(moved)
    return data


# --------------------------------------------------------------------------- public shapes

def survey_json(row: Mapping[str, Any]) -> dict[str, Any]:
    quota = {**SurveyQuota().as_dict(), **(row.get("quota") or {})}
    return {"id": row["id"], **{k: row.get(k) for k in SURVEY_FIELDS if k != "quota"}, "quota": quota,
            "created_at": iso(row.get("created_at")), "updated_at": iso(row.get("updated_at"))}


def trigger_json(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row["id"], **{k: row.get(k) for k in TRIGGER_FIELDS}}
    out["conditions"] = out["conditions"] or None
    out["variants"] = out["variants"] or []
    out["sample_rate"] = float(out["sample_rate"]) if out["sample_rate"] is not None else 100.0
    out["occurrences"], out["cancel_events"] = out["occurrences"] or [], out["cancel_events"] or []
    out["cancel_same_transaction"] = bool(out["cancel_same_transaction"])
    out["created_at"], out["updated_at"] = iso(row.get("created_at")), iso(row.get("updated_at"))
    return out


def _writable(row: Mapping[str, Any], names: tuple[str, ...], shape: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """The stored resource as a body the schema accepts (for PATCH: merge, then validate all)."""
    public = shape(row)
    return {k: public[k] for k in names if k != "site_id"}


# --------------------------------------------------------------------------- surveys

def create_survey(storage: Storage, actor: audit.Actor, reach: Reach, body: Mapping[str, Any],
                  now: float) -> dict[str, Any]:
    data = SurveySchema().load(body)
    site_id = _site_id(storage, reach, data.pop("site_id", None))
    data["quota"] = {k: v for k, v in (data.get("quota") or {}).items() if v is not None}
    _check_slug(storage, "surveys", site_id, data.get("slug"))
    if data.get("slug") is None:
        data.pop("slug", None)  # the database gives it one
    row = storage.create_survey(site_id, now, **data)
    audit.record(storage, actor, "survey.create", f"survey:{row['id']}", {"site_id": site_id, "name": row["name"]}, now)
    return row


def update_survey(storage: Storage, actor: audit.Actor, row: Mapping[str, Any], body: Mapping[str, Any],
                  partial: bool, now: float) -> dict[str, Any]:
    """PATCH (`partial`: the body's fields over the stored ones) or PUT of a survey the caller reaches."""
    survey_id = row["id"]
    merged = {**_writable(row, SURVEY_FIELDS, survey_json), **body} if partial else dict(body)
    data = _load_update(SurveySchema(), merged, "survey")
    data.pop("site_id", None)
    _check_slug(storage, "surveys", row["site_id"], data.get("slug"), survey_id)
    if data.get("slug") is None:
        data.pop("slug", None)  # left out of a PUT: the slug stays
    data["quota"] = {k: v for k, v in (data.get("quota") or {}).items() if v is not None}
    updated = storage.update_row("surveys", survey_id, data, now)
    audit.record(storage, actor, "survey.update", f"survey:{survey_id}", {"fields": sorted(body)}, now)
    return updated  # type: ignore[return-value]


# --------------------------------------------------------------------------- triggers

def _check_trigger(storage: Storage, reach: Reach, data: dict[str, Any], site_id: int | None,
                   trigger_id: int | None = None) -> dict[str, Any]:
    """The ids a trigger refers to exist, on the trigger's site (refusals name the field)."""
    survey = storage.get_row("surveys", data["survey_id"])
    if survey is not None and not reach.sees(survey["site_id"]):
        survey = None  # another site's survey is an unknown one
    if site_id is None:
        site_id = data.get("site_id")
        if site_id is not None and (storage.get_site(site_id) is None or not reach.sees(site_id)):
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
    _check_slug(storage, "triggers", site_id, data.get("slug"), trigger_id)
    if data.get("slug") is None:
        data.pop("slug", None)
    data["site_id"] = site_id
    data["conditions"] = data.get("conditions") or None
    if not data.get("name"):
        data["name"] = f"Ask after {data['event_name']}"
    return data


def create_trigger(storage: Storage, actor: audit.Actor, reach: Reach, body: Mapping[str, Any],
                   now: float) -> dict[str, Any]:
    data = _check_trigger(storage, reach, TriggerSchema().load(body), None)
    site_id = data.pop("site_id")
    row = storage.create_trigger(site_id, now, **data)
    audit.record(storage, actor, "trigger.create", f"trigger:{row['id']}",
                 {"site_id": site_id, "event_name": row["event_name"]}, now)
    return row


def update_trigger(storage: Storage, actor: audit.Actor, reach: Reach, row: Mapping[str, Any],
                   body: Mapping[str, Any], partial: bool, now: float) -> dict[str, Any]:
    trigger_id = row["id"]
    merged = {**_writable(row, TRIGGER_FIELDS, trigger_json), **body} if partial else dict(body)
    data = _check_trigger(storage, reach, _load_update(TriggerSchema(), merged, "trigger"), row["site_id"], trigger_id)
    data.pop("site_id")
    updated = storage.update_row("triggers", trigger_id, data, now)
    audit.record(storage, actor, "trigger.update", f"trigger:{trigger_id}", {"fields": sorted(body)}, now)
    return updated  # type: ignore[return-value]


# --------------------------------------------------------------------------- the fatigue policy

def set_fatigue(storage: Storage, actor: audit.Actor, site: Mapping[str, Any], body: Any, now: float) -> dict[str, Any]:
    """Replace the site's fatigue policy (keys left out take the defaults); the policy as stored."""
    policy = FatiguePolicy(**FatiguePolicySchema().load(body)).as_dict()
    settings = dict(site.get("settings") or {})
    settings["fatigue"] = policy
    storage.set_site_settings(site["id"], settings)
    audit.record(storage, actor, "site.fatigue.update", f"site:{site['id']}", policy, now)
    return policy
