"""`GET /api/v1/audit` (admin token): the changes made through the admin API and the CLI, newest first."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from marshmallow import Schema, ValidationError, fields, validate

from ..storage import audit as audit_sql
from ..user_export import iso
from .auth import current_scope
from .errors import ApiError

bp = Blueprint("audit", __name__, url_prefix="/api/v1")


class AuditQuerySchema(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))
    action = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    target = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    actor_kind = fields.String(load_default=None, validate=validate.OneOf(("token", "cli", "site")))
    since = fields.AwareDateTime(load_default=None, format="iso", default_timezone=None)
    until = fields.AwareDateTime(load_default=None, format="iso", default_timezone=None)


@bp.get("/audit")
def list_audit():
    # Entries are about sites, tokens and erasures across the installation: not for one site's token.
    current_scope().require_all_sites("read the audit log of every site")
    try:
        q = AuditQuerySchema().load(request.args)
    except ValidationError as err:
        raise ApiError(400, "validation_error", "Invalid query string.", err.normalized_messages()) from err
    filters = {k: q[k] for k in ("action", "target", "actor_kind")}
    filters.update({k: q[k].timestamp() if q[k] else None for k in ("since", "until")})
    rows, total = audit_sql.entries(current_app.extensions["ces"].storage, filters, q["limit"], q["offset"])
    items = [{"id": r["id"], "at": iso(r["created_at"]),
              "actor": {"kind": r["actor_kind"], "id": r["actor_id"], "name": r["actor_name"]},
              "action": r["action"], "target": r["target"], "detail": _detail(r["detail"])} for r in rows]
    return jsonify(items=items, total=total, limit=q["limit"], offset=q["offset"])


def _detail(raw: str | None):  # noqa: ANN202
    import json
    return None if raw is None else json.loads(raw)
