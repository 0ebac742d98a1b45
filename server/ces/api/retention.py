"""A site's retention policy (admin token): `GET`/`PUT /api/v1/sites/<id>/retention`, and
`POST /api/v1/sites/<id>/retention/run` to apply it now (docs/privacy.md)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .. import audit
from .. import retention as retention_job
from ..core.retention import RetentionPolicy, validate
from .auth import current_admin
from .body import json_object
from .errors import ApiError, not_found

bp = Blueprint("retention", __name__, url_prefix="/api/v1")


def _site(site_id: int) -> dict:
    site = current_app.extensions["ces"].storage.get_site(site_id)
    if site is None:
        raise not_found("site", site_id)
    return site


@bp.get("/sites/<int:site_id>/retention")
def get_retention(site_id: int):
    current_admin()
    return jsonify(retention_job.site_policy(_site(site_id).get("settings")).as_dict())


@bp.put("/sites/<int:site_id>/retention")
def put_retention(site_id: int):
    admin = current_admin()
    site = _site(site_id)
    body = json_object()
    errors = validate(body)
    if errors:
        raise ApiError(400, "validation_error", "Invalid retention policy.", errors)
    policy = RetentionPolicy(**body).as_dict()
    storage = current_app.extensions["ces"].storage
    settings = dict(site.get("settings") or {})
    settings["retention"] = policy
    storage.set_site_settings(site_id, settings)
    audit.record(storage, audit.token_actor(admin), "site.retention.update", f"site:{site_id}", policy)
    return jsonify(policy)


@bp.post("/sites/<int:site_id>/retention/run")
def run_retention(site_id: int):
    admin = current_admin()
    _site(site_id)
    services = current_app.extensions["ces"]
    done = retention_job.run(services.storage, services.now(), site_id=site_id).get(site_id, {})
    audit.record(services.storage, audit.token_actor(admin), "site.retention.run", f"site:{site_id}", done)
    return jsonify(site_id=site_id, **done)
