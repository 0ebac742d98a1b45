"""`/api/v1/sites/<id>/limits`: a site's own rate limits (settings.limits), over the server's defaults.

Only the limits tied to a site can be set here (rate_limits.SITE_RULES); the per-address ones are
the server's (config). A change applies to the next request, and to widget sockets opened after it.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

from .. import audit, rate_limits
from .auth import current_admin
from .body import json_object
from .errors import ApiError, not_found

bp = Blueprint("site_limits", __name__, url_prefix="/api/v1")


@bp.before_request
def _authenticate() -> None:
    current_admin()


def _site(site_id: int) -> dict[str, Any]:
    site = current_app.extensions["ces"].storage.get_site(site_id)
    if site is None:
        raise not_found("site", site_id)
    return site


def _view(site: dict[str, Any]) -> dict[str, Any]:
    overrides = (site.get("settings") or {}).get("limits") or {}
    limits: rate_limits.RateLimits = current_app.extensions["ces_limits"]
    return {"site_id": site["id"], "limits": {
        name: {"effective": limits.text(name, site), "site": overrides.get(name),
               "default": limits.raw[name]} for name in rate_limits.SITE_RULES}}


@bp.get("/sites/<int:site_id>/limits")
def get_limits(site_id: int):
    return jsonify(_view(_site(site_id)))


@bp.put("/sites/<int:site_id>/limits")
def put_limits(site_id: int):
    """Body: {name: "N/period[;…]"} to set a site's limit, {name: null} to go back to the default;
    names not in the body keep their value."""
    site = _site(site_id)
    body = json_object()
    problems = rate_limits.settings_problems(body)
    if problems:
        raise ApiError(400, "validation_error", "Invalid limits.", problems)
    settings = dict(site.get("settings") or {})
    merged = {**(settings.get("limits") or {}), **body}
    settings["limits"] = {name: value for name, value in merged.items() if value is not None}
    storage = current_app.extensions["ces"].storage
    storage.set_site_settings(site_id, settings)
    audit.record(storage, audit.http_actor(), "site.limits.update", f"site:{site_id}", settings["limits"],
                 current_app.extensions["ces"].now())
    return jsonify(_view(_site(site_id)))
