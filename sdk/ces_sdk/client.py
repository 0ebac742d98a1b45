"""``Client``: the object a site's backend keeps to talk to its CES server.

The promise to the host application: ``track()`` and ``identify()`` never block and never raise
because of the network or the server. They validate the cheap things at the call site (an empty
user id or event name is a ``ValueError``: a bug in the caller, better found in development),
put the call on a bounded in-memory queue and return. One daemon thread (``consumer.py``) sends
batches. When the queue is full the call is dropped, counted, and a warning is logged.
"""
from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
import weakref
from typing import Any, Dict, List, Mapping, Optional
from urllib.parse import quote

from . import serialize
from .consumer import (EVENTS_PATH, IDENTIFY_PATH, IDENTIFY, MAX_BATCH_BYTES, TRACK, Consumer, Marker,
                       join_batch)
from .identity import user_hash as _user_hash
from .retry import RetryPolicy
from .sender import Sender
from .serialize import MAX_EVENT_ID, MAX_NAME, MAX_USER_ID, Timestamp, check_id
from .stats import Stats

log = logging.getLogger("ces_sdk")

DEFAULT_HOST = "http://127.0.0.1:8000"
OPT_OUT_PATH = "/api/v1/users"


class Client:
    """Sends events and user traits to one CES site.

    :param secret_key: the site's secret key (``ces site create`` prints it). Keep it on the server.
    :param host: base URL of the CES server, e.g. ``https://ces.example.com``.
    :param max_queue_size: calls kept in memory while waiting to be sent; beyond, calls are dropped.
    :param flush_at: send a batch once it has this many items (at most 1,000).
    :param flush_interval: ... or this many seconds after its first item.
    :param max_batch_bytes: ... or before its body would exceed this size (at most 500 KB).
    :param timeout: seconds for one HTTP request.
    :param max_retries: retries of a batch after network errors, 5xx, 408 and 429.
    :param backoff_base: first retry wait in seconds; doubles each retry (with jitter).
    :param backoff_max: longest wait between two retries.
    :param sync_mode: send inline in the caller's thread and return the server's decision
        (scripts, tests, command line). Bad input raises at the call site.
    :param disabled: accept every call and do nothing (local development, tests of the host).
    :param exit_timeout: at interpreter exit, seconds allowed to deliver what is still queued.
    """

    def __init__(
        self,
        secret_key: str,
        host: str = DEFAULT_HOST,
        *,
        max_queue_size: int = 10_000,
        flush_at: int = 100,
        flush_interval: float = 0.5,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        timeout: float = 10.0,
        max_retries: int = 10,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        sync_mode: bool = False,
        disabled: bool = False,
        exit_timeout: float = 5.0,
    ) -> None:
        if not disabled and not secret_key:
            raise ValueError("secret_key is required (the site's secret key; or pass disabled=True)")
        if not host.startswith(("http://", "https://")):
            raise ValueError(f"host must be an http:// or https:// URL, not {host!r}")
        self.secret_key = secret_key
        self.host = host.rstrip("/")
        self.max_queue_size = max_queue_size
        self.flush_at = flush_at
        self.flush_interval = flush_interval
        self.max_batch_bytes = max_batch_bytes
        self.sync_mode = sync_mode
        self.disabled = disabled
        self.exit_timeout = exit_timeout
        self.stats = Stats()
        self.sender = Sender(
            self.host, secret_key, timeout=timeout,
            policy=RetryPolicy(max_retries=max_retries, backoff_base=backoff_base, backoff_max=backoff_max),
            stats=self.stats,
        )
        self._lock = threading.Lock()
        self._queue: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        self._consumer: Optional[Consumer] = None
        self._closed = False
        self._drops_unlogged = 0
        self._drop_logged_at = 0.0
        _after_fork_clients.add(self)

    # -- public API ---------------------------------------------------------------------------

    def track(
        self,
        user_id: str,
        name: str,
        properties: Optional[Mapping[str, Any]] = None,
        *,
        timestamp: Optional[Timestamp] = None,
        event_id: Optional[str] = None,
    ) -> Optional[Dict[str, Any]]:
        """Record that ``user_id`` did ``name`` (e.g. ``"checkout_completed"``).

        ``event_id`` makes the call idempotent (the server counts an id once per site); a random
        one is made when not given, so retries never count twice. ``timestamp`` defaults to now.

        Async mode (default): returns None at once. Sync mode: returns the server's decision
        ``{"event_id", "decision", "reason", "detail", "prompt_id"}`` or None when it could not
        be delivered (logged).

        Raises ``ValueError`` for an empty user id or name (both modes); in sync mode also
        ``TypeError``/``ValueError`` for properties that cannot be sent (async mode logs and drops).
        """
        user_id = check_id(user_id, "user_id", MAX_USER_ID)
        name = check_id(name, "name", MAX_NAME)
        if event_id is None:
            event_id = os.urandom(16).hex()
        else:
            event_id = check_id(event_id, "event_id", MAX_EVENT_ID)
        if properties is not None:
            if not isinstance(properties, Mapping):
                raise TypeError(f"properties must be a dict, not {type(properties).__name__}")
            properties = dict(properties)  # the caller may reuse its dict after we return
        if timestamp is None:
            timestamp = time.time()
        if self.disabled:
            return None
        item = (TRACK, user_id, name, properties, timestamp, event_id)
        if self.sync_mode:
            results = self._send_now(TRACK, serialize.encode_event(user_id, name, properties, timestamp, event_id))
            return results[0] if isinstance(results, list) and results else None
        self._enqueue(item)
        return None

    def identify(self, user_id: str, traits: Optional[Mapping[str, Any]] = None) -> Optional[bool]:
        """Merge ``traits`` into what the server knows of ``user_id`` (a None value removes a trait).

        Async mode: returns None at once. Sync mode: True when the server stored them.
        """
        user_id = check_id(user_id, "user_id", MAX_USER_ID)
        if traits is not None:
            if not isinstance(traits, Mapping):
                raise TypeError(f"traits must be a dict, not {type(traits).__name__}")
            traits = dict(traits)
        if self.disabled:
            return None
        if self.sync_mode:
            return self._send_now(IDENTIFY, serialize.encode_user(user_id, traits)) is not None
        self._enqueue((IDENTIFY, user_id, traits))
        return None

    def opt_out(self, user_id: str, timeout: Optional[float] = None) -> Optional[bool]:
        """Tell the server ``user_id`` must never be asked again on this site (reason ``opted_out``).

        Sent at once, in the caller's thread, not queued: the caller usually wants to tell the user
        it is done. Retried like any request until ``timeout`` seconds (default: the client's
        ``timeout``) have passed. Returns True when the server recorded it (also when the user had
        already opted out), False when it could not be delivered (logged); None when disabled.
        Never raises because of the network; an empty user id is a ``ValueError``.
        """
        user_id = check_id(user_id, "user_id", MAX_USER_ID)
        if self.disabled:
            return None
        deadline = time.monotonic() + (self.sender.timeout if timeout is None else timeout)
        outcome = self.sender.send(f"{OPT_OUT_PATH}/{quote(user_id, safe='')}/opt-out", b"{}",
                                   what="1 opt-out", deadline=deadline)
        if outcome.ok:
            self.stats.add(sent=1)
        else:
            self.stats.add(failed=1)
        return outcome.ok

    def user_hash(self, user_id: str) -> str:
        """The ``user_hash`` to render next to ``user_id`` for the widget's identity verification:
        hex HMAC-SHA256 of the UTF-8 user id keyed with the UTF-8 secret key."""
        return _user_hash(self.secret_key, user_id)

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Send everything queued so far now; wait up to ``timeout`` seconds (None: no limit).

        Returns True when all of it was handled (delivered, or refused/given up and logged).
        """
        consumer = self._consumer
        if consumer is None or not consumer.is_alive():
            return True
        marker = Marker()
        self._queue.put(marker)
        return marker.done.wait(timeout)

    def shutdown(self, timeout: Optional[float] = None) -> bool:
        """Flush with a deadline, then stop the consumer thread. Later calls are dropped.

        ``timeout`` defaults to ``exit_timeout``. Returns True when everything queued was handled
        (delivered, or refused by the server and logged) before the deadline; False when some of it
        was abandoned because the deadline came first (logged).
        """
        timeout = self.exit_timeout if timeout is None else timeout
        with self._lock:
            self._closed = True
            consumer = self._consumer
        try:
            atexit.unregister(self._at_exit)
        except Exception:  # pragma: no cover
            pass
        if consumer is None or not consumer.is_alive():
            return True
        consumer.set_deadline(time.monotonic() + timeout)
        marker = Marker(stop=True)
        self._queue.put(marker)
        done = marker.done.wait(timeout + 0.5)
        consumer.join(0.5)
        if not done:
            log.warning("CES: shutdown deadline reached with items still unsent")
        return done and consumer.abandoned == 0

    def pending(self) -> int:
        """Approximate number of calls waiting in the queue."""
        return self._queue.qsize()

    # -- internals ----------------------------------------------------------------------------

    def _enqueue(self, item: tuple) -> None:
        if self._consumer is None:
            self._start()
        if self._closed:
            self._drop("the client is shut down")
            return
        # A SimpleQueue (C, ~0.1 µs a put) bounded by this check rather than a queue.Queue(maxsize)
        # (~1.5 µs a put_nowait): under concurrent callers the bound can be passed by at most one
        # item per calling thread, and control markers (flush, shutdown) always get in.
        if self._queue.qsize() >= self.max_queue_size:
            self._drop("the queue is full")
            return
        self._queue.put(item)

    def _start(self) -> None:
        with self._lock:
            if self._consumer is not None or self._closed:
                return
            consumer = Consumer(self._queue, self.sender, self.stats, flush_at=self.flush_at,
                                flush_interval=self.flush_interval, max_batch_bytes=self.max_batch_bytes)
            consumer.start()
            self._consumer = consumer
            atexit.register(self._at_exit)

    def _at_exit(self) -> None:
        self.shutdown(self.exit_timeout)

    def _drop(self, why: str) -> None:
        self.stats.add(dropped=1)
        now = time.monotonic()
        with self._lock:
            self._drops_unlogged += 1
            if now - self._drop_logged_at < 10.0 and self._drop_logged_at:
                return
            count, self._drops_unlogged, self._drop_logged_at = self._drops_unlogged, 0, now
        # At most one line per 10 seconds, however many calls are dropped.
        log.warning("CES: dropped %d call(s): %s (%d dropped in total)", count, why, self.stats.get("dropped"))

    def _send_now(self, kind: str, data: bytes) -> Optional[List[Any]]:
        path = EVENTS_PATH if kind == TRACK else IDENTIFY_PATH
        outcome = self.sender.send(path, join_batch(kind, [data]), what="1 event" if kind == TRACK else "1 user")
        if not outcome.ok:
            self.stats.add(failed=1)
            return None
        self.stats.add(sent=1)
        payload = outcome.payload
        if kind == TRACK:
            return payload.get("results", []) if isinstance(payload, dict) else []
        return [payload]

    def _after_fork_in_child(self) -> None:
        # The parent's thread does not exist in a forked child (gunicorn --preload, multiprocessing):
        # start over with an empty queue and a consumer started on first use.
        self._lock = threading.Lock()
        self.sender._lock = threading.Lock()
        self._queue = queue.SimpleQueue()
        self._consumer = None


_after_fork_clients: "weakref.WeakSet[Client]" = weakref.WeakSet()


def _reset_clients_after_fork() -> None:
    for client in list(_after_fork_clients):
        client._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_clients_after_fork)
