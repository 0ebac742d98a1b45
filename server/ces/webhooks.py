"""Webhooks: `answer.created`, `answer.high_effort` and `answer.commented`, signed per Standard Webhooks, sent in the background.

The answer's own transaction writes one `webhook_deliveries` row per matching webhook (an
outbox): the answer and its notifications commit together or not at all, and the answer path
never makes a network call. After the commit the sender thread is woken; it claims due rows
(leased, so a crash only delays them), POSTs them with a timeout from a small pool of threads,
and records the outcome. A failure is retried with exponential backoff (base × 2^(attempt-1),
capped) until `max_attempts`, then marked `failed`; any delivery can be replayed.
"""
from __future__ import annotations

import json
import logging
import secrets
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Mapping

from .core import webhook_signing
from .core.compact_json import compact_json
from .core.finite import finite
from .core.metrics import get_metric
from .services import Services
from .storage.webhooks import WebhookStore

log = logging.getLogger(__name__)

ANSWER_EVENT_TYPES = ("answer.created", "answer.high_effort", "answer.commented")  # a new webhook's default
# Opt-in only, never by default, so a receiver made for answers is not sent what it cannot read:
# theme.grown (theme_alerts.py), score.dropped and digest (alerts.py, docs/insights.md).
EVENT_TYPES = (*ANSWER_EVENT_TYPES, "theme.grown", "score.dropped", "digest")
_senders: dict[int, "Sender"] = {}
_senders_lock = threading.Lock()


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z")


def new_msg_id() -> str:
    return "msg_" + secrets.token_urlsafe(16)


def enqueue_answer(services: Services, db: Any, prompt: Mapping[str, Any], survey: Mapping[str, Any],
                   answer_id: int, score: int, comment: str | None, now: float) -> int:
    """Inside the answer's transaction: one outbox row per webhook of the site that wants it."""
    return _enqueue(services, db, prompt, survey, answer_id, score, comment, answered_at=now, now=now,
                    event_types=("answer.created", "answer.high_effort"))


def enqueue_comment(services: Services, db: Any, prompt: Mapping[str, Any], survey: Mapping[str, Any],
                    answer: Mapping[str, Any], comment: str, now: float) -> int:
    """Inside the comment's transaction: `answer.commented` for a follow-up comment sent after the
    score (the widget sends the score first, so a high-effort answer's words arrive here)."""
    return _enqueue(services, db, prompt, survey, answer["id"], answer["score"], comment,
                    answered_at=answer["created_at"], now=now, event_types=("answer.commented",),
                    extra={"commented_at": _iso(now)})


def _enqueue(services: Services, db: Any, prompt: Mapping[str, Any], survey: Mapping[str, Any], answer_id: int,
             score: int, comment: str | None, answered_at: float, now: float, event_types: tuple[str, ...],
             extra: Mapping[str, Any] | None = None) -> int:
    store = WebhookStore(services.storage)
    hooks = [h for h in store.for_site(db, prompt["site_id"]) if any(t in h["events"] for t in event_types)]
    if not hooks:
        return 0
    metric = get_metric(survey["metric"])
    data = {"answer_id": answer_id, "survey_id": survey["id"], "metric": metric.key, "score": score,
            "comment": comment, "user_id": prompt["user_id"], "prompt_id": prompt["id"],
            "trigger_id": prompt.get("trigger_id"), "locale": prompt.get("locale"),
            "answered_at": _iso(answered_at), **(extra or {}), "event": _triggering_event(db, prompt)}
    queued = 0
    for hook in hooks:
        threshold = hook["high_effort_max"] if hook["high_effort_max"] is not None else max(metric.negative)
        for event_type in event_types:
            if event_type not in hook["events"]:
                continue
            if event_type == "answer.high_effort" and score > threshold:
                continue
            body = {"type": event_type, "timestamp": _iso(now),
                    "data": {**data, "high_effort": score <= threshold, "high_effort_max": threshold}}
            store.enqueue(db, hook["id"], prompt["site_id"], event_type, new_msg_id(),
                          compact_json(body), now)
            queued += 1
    return queued


def _triggering_event(db: Any, prompt: Mapping[str, Any]) -> dict[str, Any] | None:
    if not prompt.get("event_row"):
        return None
    row = db.execute("select event_id, name, timestamp, properties from events where id = ?",
                     [prompt["event_row"]]).fetchone()
    if not row:
        return None
    try:
        props = finite(json.loads(row[3])) if row[3] else {}  # rows from before NaN was refused: strict JSON out
    except ValueError:
        props = {}
    return {"event_id": row[0], "name": row[1], "timestamp": _iso(row[2]), "properties": props}


def notify(services: Services) -> None:
    """Wake the sender of this storage (after the commit that queued deliveries)."""
    sender = _senders.get(id(services.storage))
    if sender is not None:
        sender.wake()


def replay(services: Services, delivery: Mapping[str, Any]) -> int:
    """A new pending delivery with the same message (same webhook-id, so receivers can dedupe)."""
    store = WebhookStore(services.storage)
    with services.storage.write() as db:
        new_id = store.enqueue(db, delivery["webhook_id"], delivery["site_id"], delivery["event_type"],
                               delivery["msg_id"], delivery["payload"], services.now(), replay_of=delivery["id"])
    notify(services)
    return new_id


class Sender:
    """One background thread draining the outbox; HTTP calls run on a small pool."""

    def __init__(self, services: Services, timeout: float = 10.0, backoff_base: float = 2.0,
                 backoff_max: float = 3600.0, max_attempts: int = 8, concurrency: int = 4) -> None:
        self.services = services
        self.store = WebhookStore(services.storage)
        self.timeout, self.backoff_base, self.backoff_max = timeout, backoff_base, backoff_max
        self.max_attempts = max_attempts
        self.lease = timeout + 30.0
        self.concurrency = concurrency
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        with _senders_lock:
            _senders[id(services.storage)] = self

    @classmethod
    def from_config(cls, services: Services, config: Mapping[str, Any]) -> "Sender":
        return cls(services, timeout=float(config["WEBHOOK_TIMEOUT"]),
                   backoff_base=float(config["WEBHOOK_BACKOFF_BASE"]),
                   backoff_max=float(config["WEBHOOK_BACKOFF_MAX"]),
                   max_attempts=int(config["WEBHOOK_MAX_ATTEMPTS"]))

    def backoff(self, attempts: int) -> float:
        return min(self.backoff_max, self.backoff_base * 2 ** (attempts - 1))

    def start_if_pending(self) -> None:
        if self.store.next_due() is not None:
            self.wake()

    def wake(self) -> None:
        with self._lock:
            if self._thread is None and not self._stopped:
                self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="ces-webhook")
                self._thread = threading.Thread(target=self._run, name="ces-webhooks", daemon=True)
                self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        with _senders_lock:
            if _senders.get(id(self.services.storage)) is self:
                del _senders[id(self.services.storage)]

    def _run(self) -> None:
        assert self._pool is not None
        while not self._stopped:
            try:
                self._wake.clear()
                now = self.services.now()
                batch = self.store.claim_due(now, 32, self.lease)
                if batch:
                    list(self._pool.map(self._send, batch))
                    continue
                due = self.store.next_due()
                wait = None if due is None else max(0.0, due - self.services.now())
                self._wake.wait(timeout=None if wait is None else min(wait, 60.0))
            except Exception:
                log.exception("webhook sender loop failed")
                self._wake.wait(timeout=1.0)
        self._pool.shutdown(wait=False)
        self.services.storage.close()

    def _send(self, d: dict[str, Any]) -> None:
        try:
            status, error = self._post(d)
            now = self.services.now()
            if status is not None and 200 <= status < 300:
                self.store.record(d["id"], "succeeded", status, None, now)
            elif d["attempts"] >= self.max_attempts:
                self.store.record(d["id"], "failed", status, error, now)
            else:
                self.store.record(d["id"], "pending", status, error, now, now + self.backoff(d["attempts"]))
        except Exception:
            log.exception("webhook delivery %s failed", d["id"])
        finally:
            self.services.storage.close()  # pool threads do not keep a connection open

    def _post(self, d: dict[str, Any]) -> tuple[int | None, str | None]:
        body = d["payload"].encode()
        # During a secret's rotation both sign: a receiver still on the old secret keeps verifying.
        secrets_ = [d["secret"]] + ([d["previous_secret"]] if d.get("previous_secret") else [])
        headers = webhook_signing.headers(secrets_, d["msg_id"], int(self.services.now()), body)
        headers.update({"Content-Type": "application/json", "User-Agent": "ces-webhooks/1"})
        req = urllib.request.Request(d["url"], data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                resp.read(65536)
                return resp.status, None
        except urllib.error.HTTPError as err:
            return err.code, f"HTTP {err.code}"
        except Exception as err:  # refused, timed out, DNS, TLS…
            return None, f"{type(err).__name__}: {err}"[:500]
