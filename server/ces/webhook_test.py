"""A test event for one webhook: checks the receiving end (URL, signature check) before a real
answer depends on it. Queued like every delivery (same outbox, signature, retries, log)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

from .core.compact_json import compact_json
from .storage.webhooks import WebhookStore
from .webhooks import new_msg_id, notify

TEST_EVENT = "webhook.test"


def send_test_event(services: Any, hook: Mapping[str, Any]) -> int:
    """Queue one `webhook.test` delivery to `hook`; its delivery id."""
    now = services.now()
    body = {"type": TEST_EVENT, "timestamp": datetime.fromtimestamp(now, timezone.utc).isoformat().replace("+00:00", "Z"),
            "data": {"webhook_id": hook["id"], "site_id": hook["site_id"],
                     "message": "A test event: this webhook's URL receives signed deliveries."}}
    store = WebhookStore(services.storage)
    with services.storage.write() as db:
        delivery_id = store.enqueue(db, hook["id"], hook["site_id"], TEST_EVENT, new_msg_id(), compact_json(body), now)
    notify(services)
    return delivery_id
