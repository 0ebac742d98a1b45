"""Admin endpoints of webhooks: create, list, delete; list deliveries and replay one."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from marshmallow import Schema, ValidationError, fields, validate, validates

from .. import audit, webhooks
from ..core import webhook_signing
from ..core.limits import INT_MAX
from ..core.urls import MAX_URL, http_url_problem
from ..storage.webhooks import WebhookStore
from .admin_schemas import MAX_ID
from .auth import current_admin, current_scope
from .body import json_object, load
from .errors import ApiError, not_found
from .schemas import SQLITE_INT
from .site_schemas import RotateSchema

bp = Blueprint("webhooks", __name__, url_prefix="/api/v1")
MAX_PAGE_SIZE = 200


class WebhookSchema(Schema):
    site_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID))
    url = fields.String(required=True, validate=validate.Length(min=1, max=MAX_URL))
    events = fields.List(fields.String(validate=validate.OneOf(webhooks.EVENT_TYPES)),
                         load_default=lambda: list(webhooks.ANSWER_EVENT_TYPES), validate=validate.Length(min=1))
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
        # While a rotated secret still signs (a second signature in webhook-signature), until when.
        expires = hook.get("previous_secret_expires_at")
        out["previous_secret_expires_at"] = expires if expires is not None and expires > _services().now() else None
    return out


def _services():  # noqa: ANN202
    return current_app.extensions["ces"]


def _hook(webhook_id: int) -> dict[str, Any]:
    hook = WebhookStore(_services().storage).get(webhook_id)
    if hook is None:
        raise not_found("webhook", webhook_id)
    return hook


def _page_args() -> tuple[int, int]:
    try:
        page = int(request.args.get("page", 1))
        size = int(request.args.get("page_size", 50))
    except ValueError:
        raise ApiError(400, "validation_error", "page and page_size must be integers.",
                       {"page": ["Not a valid integer."]}) from None
    if not 1 <= page <= 1_000_000:
        raise ApiError(400, "validation_error", "page must be 1 to 1000000.",
                       {"page": ["Must be between 1 and 1000000."]})
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ApiError(400, "validation_error", f"page_size must be 1 to {MAX_PAGE_SIZE}.",
                       {"page_size": [f"Must be between 1 and {MAX_PAGE_SIZE}."]})
    return page, size


@bp.post("/webhooks")
def create_webhook():
    admin = current_admin()
    data = load(WebhookSchema())
    services = _services()
    if services.storage.get_site(data["site_id"]) is None or not current_scope().sees(data["site_id"]):
        raise ApiError(400, "validation_error", f"Unknown site {data['site_id']}.",
                       {"site_id": [f"Unknown site {data['site_id']}."]})
    hook = WebhookStore(services.storage).create(
        data["site_id"], data["url"], webhook_signing.generate_secret(), sorted(set(data["events"])),
        data["high_effort_max"], data["description"], services.now())
    audit.record(services.storage, audit.token_actor(admin), "webhook.create", f"webhook:{hook['id']}",
                 {"site_id": data["site_id"], "url": data["url"], "events": hook["events"]})
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
    if site_id is not None and not 1 <= site_id <= MAX_ID:
        raise ApiError(400, "validation_error", f"site_id must be 1 to {MAX_ID}.",
                       {"site_id": [f"Must be between 1 and {MAX_ID}."]})
    site_id = current_scope().site_filter(site_id)
    return jsonify(webhooks=[_public(h) for h in WebhookStore(_services().storage).list(site_id)])


@bp.get("/webhooks/<int:webhook_id>")
def get_webhook(webhook_id: int):
    current_admin()
    return jsonify(_public(_hook(webhook_id), with_secret=True))


@bp.delete("/webhooks/<int:webhook_id>")
def delete_webhook(webhook_id: int):
    admin = current_admin()
    _hook(webhook_id)
    services = _services()
    WebhookStore(services.storage).delete(webhook_id, services.now())
    audit.record(services.storage, audit.token_actor(admin), "webhook.delete", f"webhook:{webhook_id}")
    return jsonify(deleted=webhook_id)


@bp.post("/webhooks/<int:webhook_id>/rotate-secret")
def rotate_webhook_secret(webhook_id: int):
    """A new signing secret; during `grace_seconds` each delivery carries two signatures (new, old)."""
    current_admin()
    _hook(webhook_id)
    grace = RotateSchema().load(json_object() if request.get_data() else {})["grace_seconds"]
    if grace is None:
        grace = int(current_app.config["SECRET_GRACE_SECONDS"])
    services = _services()
    store = WebhookStore(services.storage)
    store.rotate_secret(webhook_id, webhook_signing.generate_secret(), services.now(), grace)
    audit.record(services.storage, audit.http_actor(), "webhook.rotate_secret", f"webhook:{webhook_id}",
                 {"grace_seconds": grace}, services.now())
    return jsonify(_public(store.get(webhook_id), with_secret=True))  # type: ignore[arg-type]


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
    admin = current_admin()
    _hook(webhook_id)
    services = _services()
    delivery = WebhookStore(services.storage).delivery(delivery_id)
    if delivery is None or delivery["webhook_id"] != webhook_id:
        raise not_found("delivery", delivery_id)
    new_id = webhooks.replay(services, delivery)
    audit.record(services.storage, audit.token_actor(admin), "webhook.replay", f"webhook:{webhook_id}",
                 {"delivery_id": delivery_id, "new_delivery_id": new_id})
    return jsonify(delivery_id=new_id, replay_of=delivery_id, status="pending"), 202
