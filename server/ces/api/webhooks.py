"""Admin endpoints of webhooks: create, list, delete; list deliveries and replay one."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from marshmallow import Schema, ValidationError, fields, validate, validates

from .. import webhooks
from ..core import webhook_signing
from ..core.limits import INT_MAX
from ..core.urls import MAX_URL, http_url_problem
from ..storage.webhooks import WebhookStore
from .auth import current_admin
from .body import load
from .errors import ApiError
from .schemas import SQLITE_INT

bp = Blueprint("webhooks", __name__, url_prefix="/api/v1")
MAX_PAGE_SIZE = 200


class WebhookSchema(Schema):
    site_id = fields.Integer(required=True, strict=True, validate=SQLITE_INT)
    url = fields.String(required=True, validate=validate.Length(min=1, max=MAX_URL))
    events = fields.List(fields.String(validate=validate.OneOf(webhooks.EVENT_TYPES)),
                         load_default=lambda: list(webhooks.EVENT_TYPES), validate=validate.Length(min=1))
    high_effort_max = fields.Integer(load_default=None, allow_none=True, strict=True, validate=SQLITE_INT)
    description = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))

    @validates("url")
    def _http_url(self, value: str, **_: Any) -> None:
        problem = http_url_problem(value)
        if problem:
            raise ValidationError(problem)


def _public(hook: dict[str, Any], with_secret: bool = False) -> dict[str, Any]:
    out = {k: hook[k] for k in ("id", "site_id", "url", "events", "high_effort_max", "description", "created_at")}
    if with_secret:
        out["secret"] = hook["secret"]
    return out


def _services():  # noqa: ANN202
    return current_app.extensions["ces"]


def _hook(webhook_id: int) -> dict[str, Any]:
    hook = WebhookStore(_services().storage).get(webhook_id)
    if hook is None:
        raise ApiError(404, "not_found", f"No webhook {webhook_id}.", {"webhook_id": [f"Unknown webhook {webhook_id}."]})
    return hook


def _page_args() -> tuple[int, int]:
    try:
        page = int(request.args.get("page", 1))
        size = int(request.args.get("page_size", 50))
    except ValueError:
        raise ApiError(400, "validation_error", "page and page_size must be integers.",
                       {"page": ["Not a valid integer."]}) from None
    if not 1 <= page <= INT_MAX // MAX_PAGE_SIZE:
        raise ApiError(400, "validation_error", "page must be at least 1 (and a 64-bit offset).",
                       {"page": [f"Must be between 1 and {INT_MAX // MAX_PAGE_SIZE}."]})
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ApiError(400, "validation_error", f"page_size must be 1 to {MAX_PAGE_SIZE}.",
                       {"page_size": [f"Must be between 1 and {MAX_PAGE_SIZE}."]})
    return page, size


@bp.post("/webhooks")
def create_webhook():
    current_admin()
    data = load(WebhookSchema())
    services = _services()
    if services.storage.get_site(data["site_id"]) is None:
        raise ApiError(400, "validation_error", f"No site {data['site_id']}.", {"site_id": ["Unknown site."]})
    hook = WebhookStore(services.storage).create(
        data["site_id"], data["url"], webhook_signing.generate_secret(), sorted(set(data["events"])),
        data["high_effort_max"], data["description"], services.now())
    return jsonify(_public(hook, with_secret=True)), 201


@bp.get("/webhooks")
def list_webhooks():
    current_admin()
    raw = request.args.get("site_id")
    try:
        site_id = int(raw) if raw is not None else None
        if site_id is not None and abs(site_id) > INT_MAX:
            raise ValueError(raw)
    except ValueError:
        raise ApiError(400, "validation_error", "site_id must be an integer.", {"site_id": ["Not a valid integer."]}) from None
    return jsonify(webhooks=[_public(h) for h in WebhookStore(_services().storage).list(site_id)])


@bp.get("/webhooks/<int:webhook_id>")
def get_webhook(webhook_id: int):
    current_admin()
    return jsonify(_public(_hook(webhook_id), with_secret=True))


@bp.delete("/webhooks/<int:webhook_id>")
def delete_webhook(webhook_id: int):
    current_admin()
    _hook(webhook_id)
    services = _services()
    WebhookStore(services.storage).delete(webhook_id, services.now())
    return jsonify(deleted=webhook_id)


@bp.get("/webhooks/<int:webhook_id>/deliveries")
def list_deliveries(webhook_id: int):
    current_admin()
    _hook(webhook_id)
    status = request.args.get("status")
    if status is not None and status not in ("pending", "succeeded", "failed", "cancelled"):
        raise ApiError(400, "validation_error", "Unknown status.",
                       {"status": ["Must be one of pending, succeeded, failed, cancelled."]})
    page, size = _page_args()
    rows, total = WebhookStore(_services().storage).deliveries(webhook_id, status, size, (page - 1) * size)
    return jsonify(webhook_id=webhook_id, total=total, page=page, page_size=size, deliveries=rows)


@bp.post("/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/replay")
def replay_delivery(webhook_id: int, delivery_id: int):
    current_admin()
    _hook(webhook_id)
    services = _services()
    delivery = WebhookStore(services.storage).delivery(delivery_id)
    if delivery is None or delivery["webhook_id"] != webhook_id:
        raise ApiError(404, "not_found", f"No delivery {delivery_id} for webhook {webhook_id}.",
                       {"delivery_id": [f"Unknown delivery {delivery_id}."]})
    new_id = webhooks.replay(services, delivery)
    return jsonify(delivery_id=new_id, replay_of=delivery_id, status="pending"), 202
