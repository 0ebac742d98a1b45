"""`GET /api/v1/sites/<id>/fatigue/diagnostic`: users prompted by two or more surveys within a
window, and the survey pairs that collide (fatigue_diagnostic.py)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .. import fatigue_diagnostic
from ..storage.sites import SiteStore
from .auth import current_scope
from .errors import ApiError, not_found

bp = Blueprint("fatigue_diagnostic", __name__, url_prefix="/api/v1")


class DiagnosticQuerySchema(Schema):
    from_ = fields.Date(data_key="from", load_default=None,
                        metadata={"description": "First day (YYYY-MM-DD, site's time zone); default: 29 days "
                                                 "before `to`."})
    to = fields.Date(load_default=None, metadata={"description": "Last day, included; default: today."})
    window_hours = fields.Integer(load_default=24, validate=validate.Range(min=1, max=720),
                                  metadata={"description": "Two prompts closer than this collide."})

    @validates_schema
    def _order(self, data: dict, **kwargs: object) -> None:
        first, last = data.get("from_"), data.get("to")
        if first and last and first > last:
            raise ValidationError("Must not be after `to`.", "from")


@bp.get("/sites/<int:site_id>/fatigue/diagnostic")
def get_diagnostic(site_id: int):
    current_scope()  # admin token; another site's, for a token of one site, is a 404 there
    services = current_app.extensions["ces"]
    site = SiteStore(services.storage).get(site_id)
    if site is None:
        raise not_found("site", site_id)
    try:
        q = DiagnosticQuerySchema().load(request.args)
    except ValidationError as err:
        raise ApiError(400, "validation_error", "Invalid query string.", err.normalized_messages()) from err
    first, last = fatigue_diagnostic.period(site, services.now(), q["from_"], q["to"])
    if first > last or (last - first).days > 366:
        raise ApiError(400, "validation_error", "Invalid query string.", {"from": ["The period is at most 367 days."]})
    return jsonify(fatigue_diagnostic.diagnose(services.storage, site, first, last, q["window_hours"]))
