"""A site's time zone (admin token): `GET` / `PUT /api/v1/sites/<id>/time_zone`.

Stored in the site's settings (`sites.settings`, key `time_zone`, read with
`core.time_zones.site_time_zone`), like the fatigue policy beside it. Quota days, whole-day
waits and windows, report periods and the dates of lists and exports follow it.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ..core.time_zones import site_time_zone, time_zone_error
from .auth import current_admin
from .body import json_object
from .errors import ApiError

bp = Blueprint("site_time_zone", __name__, url_prefix="/api/v1")


def _site(site_id: int) -> dict:
    site = current_app.extensions["ces"].storage.get_site(site_id)
    if site is None:
        raise ApiError(404, "not_found", f"No site {site_id}.")
    return site


@bp.get("/sites/<int:site_id>/time_zone")
def get_time_zone(site_id: int):
    current_admin()
    return jsonify(time_zone=site_time_zone(_site(site_id).get("settings")))


@bp.put("/sites/<int:site_id>/time_zone")
def put_time_zone(site_id: int):
    current_admin()
    site = _site(site_id)
    body = json_object()
    unknown = sorted(k for k in body if k != "time_zone")
    if unknown:
        raise ApiError(400, "validation_error", "Invalid request.", {k: ["Unknown field."] for k in unknown})
    name = body.get("time_zone")
    problem = time_zone_error(name)
    if problem:
        raise ApiError(400, "validation_error", f"Invalid time_zone: {problem}", {"time_zone": [problem]})
    settings = dict(site.get("settings") or {})
    settings["time_zone"] = name
    current_app.extensions["ces"].storage.set_site_settings(site_id, settings)
    return jsonify(time_zone=name)
