"""GET /api/v1/sites/{site_id}/activity: widgets connected now and the latest answers."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from ..activity import MAX_ANSWERS, site_activity
from ..storage.sites import SiteStore
from .auth import current_admin
from .errors import ApiError, not_found

bp = Blueprint("activity", __name__, url_prefix="/api/v1")


@bp.get("/sites/<int:site_id>/activity")
def get_activity(site_id: int):
    current_admin()
    found = SiteStore(current_app.extensions["ces"].storage).list(site_id)
    if not found:
        raise not_found("site", site_id)
    raw = request.args.get("limit", "10")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_ANSWERS:
        raise ApiError(400, "validation_error", f"limit must be an integer from 1 to {MAX_ANSWERS}.",
                       {"limit": [f"Must be between 1 and {MAX_ANSWERS}."]})
    return jsonify(site_activity(current_app.extensions["ces"], found[0], int(raw)))
