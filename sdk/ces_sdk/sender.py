"""Sending one request body until it is accepted, refused for good, or it is time to give up.

Shared by the background consumer and by sync mode. Retrying a batch is safe because every event
carries an ``event_id`` fixed when ``track()`` was called: the server answers a repeat with
``skip``/``duplicate_event`` instead of counting it twice.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

from . import transport
from .retry import RetryPolicy, is_retryable, parse_retry_after
from .stats import Stats

log = logging.getLogger("ces_sdk")


@dataclass
class Outcome:
    """What became of one request body."""

    ok: bool
    #: The last HTTP status seen (None when the last try got no answer at all).
    status: Optional[int] = None
    #: The answer's JSON (the results on success, the error body on a refusal), when it had one.
    payload: Any = None
    attempts: int = 0
    #: For people: why it failed.
    error: str = ""
    #: True when it was given up because of a shutdown deadline (not refused, not out of retries).
    abandoned: bool = False


def _error_message(payload: Any, body: bytes) -> str:
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        err = payload["error"]
        text = f"{err.get('code', '?')}: {err.get('message', '')}"
        if err.get("fields"):
            text += f" {json.dumps(err['fields'], ensure_ascii=False)[:500]}"
        return text
    return body[:200].decode("utf-8", "replace")


class Sender:
    """POSTs JSON bodies to one CES server with one secret key, retrying what is worth retrying."""

    def __init__(
        self,
        host: str,
        secret_key: str,
        *,
        timeout: float = 10.0,
        policy: RetryPolicy = RetryPolicy(),
        post: Callable[[str, bytes, str, float], transport.Response] = transport.post,
        stats: Optional[Stats] = None,
    ) -> None:
        self.host = host.rstrip("/")
        self.secret_key = secret_key
        self.timeout = timeout
        self.policy = policy
        self._post = post
        self.stats = stats if stats is not None else Stats()
        self._auth_logged = False
        self._lock = threading.Lock()

    def send(
        self,
        path: str,
        body: bytes,
        *,
        what: str = "request",
        deadline: Optional[float] = None,
        wait: Callable[[float], bool] = lambda delay: bool(time.sleep(delay)),
    ) -> Outcome:
        """Send ``body`` to ``host + path``.

        ``deadline`` (a ``time.monotonic()`` value) stops retrying when the next try would start
        after it. ``wait(delay)`` sleeps and returns True when it was interrupted to abandon.
        Never raises for network trouble or a refusal: the ``Outcome`` says what happened.
        """
        url = self.host + path
        attempt = 0
        while True:
            timeout = self.timeout
            if deadline is not None:
                timeout = max(0.05, min(timeout, deadline - time.monotonic()))
            status: Optional[int] = None
            retry_after: Optional[float] = None
            payload: Any = None
            self.stats.add(requests=1, retries=1 if attempt else 0)
            try:
                answer = self._post(url, body, self.secret_key, timeout)
                status = answer.status
                try:
                    payload = json.loads(answer.body) if answer.body else None
                except ValueError:
                    payload = None
                if 200 <= status < 300:
                    return Outcome(True, status, payload, attempt + 1)
                problem = f"HTTP {status} {_error_message(payload, answer.body)}"
                if not is_retryable(status):
                    self._log_refusal(status, what, path, problem)
                    return Outcome(False, status, payload, attempt + 1, problem)
                retry_after = parse_retry_after(answer.headers.get("Retry-After"))
            except transport.NetworkError as error:
                problem = str(error)

            if attempt >= self.policy.max_retries:
                log.error("CES: giving up on %s to %s after %d tries: %s", what, path, attempt + 1, problem)
                return Outcome(False, status, payload, attempt + 1, f"gave up after {attempt + 1} tries: {problem}")
            delay = self.policy.wait_before_retry(attempt, retry_after)
            if deadline is not None and time.monotonic() + delay >= deadline:
                log.error("CES: giving up on %s to %s, the deadline is reached: %s", what, path, problem)
                return Outcome(False, status, payload, attempt + 1, f"deadline reached: {problem}", True)
            log.info("CES: %s to %s failed (%s); try %d in %.2fs", what, path, problem, attempt + 2, delay)
            if wait(delay):
                log.error("CES: giving up on %s to %s, the deadline is reached: %s", what, path, problem)
                return Outcome(False, status, payload, attempt + 1, f"deadline reached: {problem}", True)
            attempt += 1

    def _log_refusal(self, status: int, what: str, path: str, problem: str) -> None:
        if status in (401, 403):
            # A wrong key fails every request the same way: say it loudly once, not per batch.
            with self._lock:
                first = not self._auth_logged
                self._auth_logged = True
            if first:
                log.error(
                    "CES: the server refused the secret key (%s) for %s to %s; check CES_SECRET_KEY. "
                    "Nothing is retried; further refusals are logged at debug level.",
                    problem, what, path,
                )
            else:
                log.debug("CES: %s to %s refused: %s", what, path, problem)
            return
        log.error("CES: the server refused %s to %s, not retrying: %s", what, path, problem)
