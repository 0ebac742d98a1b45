"""SQL of webhooks and their deliveries (the outbox the background sender drains)."""
from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from . import Storage

DELIVERY_COLUMNS = ("id, webhook_id, site_id, event_type, msg_id, status, attempts, next_attempt_at, last_status, "
                    "last_error, replay_of, created_at, updated_at, delivered_at")


def _webhook(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is not None:
        row["events"] = json.loads(row["events"])
    return row


class WebhookStore:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    # -- webhooks -------------------------------------------------------------------------------
    def create(self, site_id: int, url: str, secret: str, events: list[str], high_effort_max: int | None,
               description: str | None, now: float) -> dict[str, Any]:
        with self.storage.write() as db:
            cur = db.execute(
                "insert into webhooks (site_id, url, secret, events, high_effort_max, description, created_at) "
                "values (?, ?, ?, ?, ?, ?, ?)",
                [site_id, url, secret, json.dumps(events), high_effort_max, description, now])
            row_id = cur.lastrowid
        return self.get(row_id)  # type: ignore[return-value,arg-type]

    def get(self, webhook_id: int) -> dict[str, Any] | None:
        return _webhook(self.storage.one("select * from webhooks where id = ?", [webhook_id]))

    def list(self, site_id: int | None) -> list[dict[str, Any]]:
        if site_id is None:
            rows = self.storage.all("select * from webhooks order by id")
        else:
            rows = self.storage.all("select * from webhooks where site_id = ? order by id", [site_id])
        return [_webhook(r) for r in rows]  # type: ignore[misc]

    def delete(self, webhook_id: int, now: float) -> bool:
        with self.storage.write() as db:
            db.execute("update webhook_deliveries set status = 'cancelled', updated_at = ? "
                       "where webhook_id = ? and status = 'pending'", [now, webhook_id])
            return db.execute("delete from webhooks where id = ?", [webhook_id]).rowcount == 1

    def rotate_secret(self, webhook_id: int, secret: str, now: float, grace_seconds: float) -> None:
        """`secret` signs from now on; the replaced one also signs until `now + grace_seconds`."""
        with self.storage.write() as db:
            db.execute("update webhooks set previous_secret = secret, previous_secret_expires_at = ?, secret = ? "
                       "where id = ?", [now + grace_seconds, secret, webhook_id])

    def for_site(self, db: Database, site_id: int) -> list[dict[str, Any]]:
        rows = db.execute("select id, events, high_effort_max from webhooks where site_id = ?", [site_id]).fetchall()
        return [{"id": r[0], "events": json.loads(r[1]), "high_effort_max": r[2]} for r in rows]

    # -- deliveries -----------------------------------------------------------------------------
    def enqueue(self, db: Database, webhook_id: int, site_id: int, event_type: str, msg_id: str, payload: str,
                now: float, replay_of: int | None = None) -> int:
        """One pending delivery, inside the caller's transaction (the outbox row)."""
        return db.execute(
            "insert into webhook_deliveries (webhook_id, site_id, event_type, msg_id, payload, status, attempts, "
            "next_attempt_at, replay_of, created_at, updated_at) values (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)",
            [webhook_id, site_id, event_type, msg_id, payload, now, replay_of, now, now]).lastrowid

    def claim_due(self, now: float, limit: int, lease: float) -> list[dict[str, Any]]:
        """Due pending deliveries, leased: their next attempt is pushed `lease` seconds ahead and their
        attempt counted, so a crashed sender's deliveries are retried after the lease."""
        with self.storage.write() as db:
            rows = db.execute(
                "select d.id, d.webhook_id, d.event_type, d.msg_id, d.payload, d.attempts, w.url, w.secret, "
                "case when w.previous_secret_expires_at > ? then w.previous_secret end "
                "from webhook_deliveries d join webhooks w on w.id = d.webhook_id "
                "where d.status = 'pending' and d.next_attempt_at <= ? order by d.next_attempt_at limit ?",
                [now, now, limit]).fetchall()
            for r in rows:
                db.execute("update webhook_deliveries set attempts = attempts + 1, next_attempt_at = ?, "
                           "updated_at = ? where id = ?", [now + lease, now, r[0]])
        keys = ("id", "webhook_id", "event_type", "msg_id", "payload", "attempts", "url", "secret", "previous_secret")
        return [{**dict(zip(keys, r)), "attempts": r[5] + 1} for r in rows]

    def next_due(self) -> float | None:
        row = self.storage.db.conn.execute(
            "select min(next_attempt_at) from webhook_deliveries where status = 'pending'").fetchone()
        return row[0] if row else None

    def record(self, delivery_id: int, status: str, http_status: int | None, error: str | None,
               now: float, next_attempt_at: float | None = None) -> None:
        with self.storage.write() as db:
            db.execute(
                "update webhook_deliveries set status = ?, last_status = ?, last_error = ?, updated_at = ?, "
                "next_attempt_at = coalesce(?, next_attempt_at), "
                "delivered_at = case when ? = 'succeeded' then ? else delivered_at end where id = ?",
                [status, http_status, error, now, next_attempt_at, status, now, delivery_id])

    def deliveries(self, webhook_id: int, status: str | None, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        where, params = "webhook_id = ?", [webhook_id]
        if status:
            where += " and status = ?"
            params.append(status)  # type: ignore[arg-type]
        total = self.storage.db.conn.execute(f"select count(*) from webhook_deliveries where {where}", params).fetchone()[0]
        rows = self.storage.all(f"select {DELIVERY_COLUMNS} from webhook_deliveries where {where} "
                                "order by id desc limit ? offset ?", params + [limit, offset])
        return rows, total

    def delivery(self, delivery_id: int) -> dict[str, Any] | None:
        return self.storage.one("select * from webhook_deliveries where id = ?", [delivery_id])
