"""The sites endpoints: create, list, read, change (name, allowed origins, identity verification,
time zone), rotate the secret key, and the site's fatigue policy.

A site's secret key is shown when the site is created and when it is rotated, never by a read.
Changes apply to the next event and the next socket message: every event and every `hello` or
`identify` reads the site's row as it now is.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from marshmallow import ValidationError

from .. import audit, rules_editing
from ..rules_cache import policy_from_settings
from ..storage.sites import SiteStore
from .admin_schemas import ListQuerySchema
from .auth import current_scope
from .body import json_object
from .errors import ApiError, not_found
from .site_schemas import RotateSchema, SiteSchema

bp = Blueprint("sites", __name__, url_prefix="/api/v1")


@bp.before_request
def _authenticate() -> None:
    current_scope()


def _audit(action: str, target: str, detail: Any = None) -> None:
    """The change just made, in the audit log (who: the calling token)."""
    audit.record(_services().storage, audit.http_actor(), action, target, detail, _services().now())


def _services():  # noqa: ANN202
    return current_app.extensions["ces"]


def _store() -> SiteStore:
    return SiteStore(_services().storage)


def iso(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def site_json(row: dict[str, Any], now: float) -> dict[str, Any]:
    """A site without its secret key; `previous_secret_expires_at` while a rotated key still works."""
    expires = row.get("previous_secret_expires_at")
    return {"id": row["id"], "name": row["name"], "site_key": row["site_key"],
            "identity_verification": bool(row["identity_verification"]),
            "allowed_origins": row.get("allowed_origins") or [], "time_zone": row.get("time_zone") or "UTC",
            "fatigue": policy_from_settings(row.get("settings")).as_dict(), "created_at": iso(row.get("created_at")),
            "previous_secret_expires_at": iso(expires) if expires is not None and expires > now else None}


def _site_or_404(site_id: int) -> dict[str, Any]:
    row = _store().get(site_id)
    if row is None:  # another site's, for a token of one site: refused in current_scope() already
        raise not_found("site", site_id)
    return row


@bp.get("/sites")
def list_sites():
    try:
        q = ListQuerySchema(only=("limit", "offset")).load(request.args)
    except ValidationError as err:
        raise ApiError(400, "validation_error", "Invalid query string.", err.normalized_messages()) from err
    rows = _store().list(current_scope().site_id)
    now = _services().now()
    page = rows[q["offset"]:q["offset"] + q["limit"]]
    return jsonify(items=[site_json(r, now) for r in page], total=len(rows))


@bp.post("/sites")
def create_site():
    current_scope().require_all_sites("create sites")
    data = SiteSchema().load(json_object())
    services = _services()
    row = _store().create(data["name"], services.now(), data["identity_verification"], data["allowed_origins"],
                          data["time_zone"])
    _audit("site.create", f"site:{row['id']}", {"name": row["name"]})
    return jsonify({**site_json(row, services.now()), "secret_key": row["secret_key"]}), 201


@bp.get("/sites/<int:site_id>")
def get_site(site_id: int):
    return jsonify(site_json(_site_or_404(site_id), _services().now()))


@bp.patch("/sites/<int:site_id>")
def patch_site(site_id: int):
    _site_or_404(site_id)
    data = SiteSchema(partial=True).load(json_object())
    row = _store().update(site_id, data)
    _audit("site.update", f"site:{site_id}", {"fields": sorted(data)})
    return jsonify(site_json(row, _services().now()))  # type: ignore[arg-type]


@bp.post("/sites/<int:site_id>/rotate-secret")
def rotate_secret(site_id: int):
    """A new secret key; the old one keeps working for `grace_seconds` (events and user hashes)."""
    _site_or_404(site_id)
    body = json_object() if request.get_data() else {}
    grace = RotateSchema().load(body)["grace_seconds"]
    if grace is None:
        grace = int(current_app.config["SECRET_GRACE_SECONDS"])
    services = _services()
    row = _store().rotate_secret(site_id, services.now(), grace)
    _audit("site.rotate_secret", f"site:{site_id}", {"grace_seconds": grace})
    return jsonify(site_id=site_id, secret_key=row["secret_key"],
                   previous_secret_expires_at=iso(row["previous_secret_expires_at"]) if grace > 0 else None)


@bp.get("/sites/<int:site_id>/fatigue")
def get_fatigue(site_id: int):
    return jsonify(policy_from_settings(_site_or_404(site_id).get("settings")).as_dict())


@bp.put("/sites/<int:site_id>/fatigue")
def put_fatigue(site_id: int):
    site = _site_or_404(site_id)
    services = _services()
    policy = rules_editing.set_fatigue(services.storage, audit.http_actor(), site, json_object(), services.now())
    return jsonify(policy)
