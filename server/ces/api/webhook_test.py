"""POST /api/v1/webhooks/{id}/test: queue a `webhook.test` delivery (see it in the delivery log)."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .. import audit
from ..storage.webhooks import WebhookStore
from ..webhook_test import TEST_EVENT, send_test_event
from .auth import current_admin
from .errors import not_found

bp = Blueprint("webhook_test", __name__, url_prefix="/api/v1")


@bp.post("/webhooks/<int:webhook_id>/test")
def send_test(webhook_id: int):
    admin = current_admin()
    services = current_app.extensions["ces"]
    hook = WebhookStore(services.storage).get(webhook_id)
    if hook is None:
        raise not_found("webhook", webhook_id)
    delivery_id = send_test_event(services, hook)
    audit.record(services.storage, audit.token_actor(admin), "webhook.test", f"webhook:{webhook_id}",
                 {"delivery_id": delivery_id}, services.now())
    return jsonify(delivery_id=delivery_id, webhook_id=webhook_id, event_type=TEST_EVENT, status="pending"), 202
