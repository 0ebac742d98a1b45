"""The one background thread that turns queued calls into batches and sends them.

Batches close on whichever comes first: ``flush_at`` items, ``flush_interval`` seconds after the
first item of the batch, ``max_batch_bytes`` of body, or a ``flush()``/``shutdown()`` marker.
Batches are sent one after the other and a batch is retried before the next one is sent, so
events reach the server in the order ``track()`` was called (in particular, in order per user),
and an ``identify`` reaches it before the events tracked after it.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, List, Optional, Tuple

from . import serialize
from .sender import Sender
from .stats import Stats

log = logging.getLogger("ces_sdk")

EVENTS_PATH = "/api/v1/events"
IDENTIFY_PATH = "/api/v1/identify"

#: Hard limits of the server's batch endpoints (docs/api.md): 1,000 items, 1 MB body.
MAX_BATCH_ITEMS = 1000
MAX_BATCH_BYTES = 500_000

TRACK = "e"
IDENTIFY = "u"


class Marker:
    """A control item: wakes whoever waits on it once everything queued before it is handled."""

    __slots__ = ("done", "stop")

    def __init__(self, stop: bool = False) -> None:
        self.done = threading.Event()
        self.stop = stop


def encode(item: Tuple[Any, ...]) -> bytes:
    """The JSON of one queued call (raises TypeError/ValueError for bad input)."""
    if item[0] == TRACK:
        _, user_id, name, properties, timestamp, event_id = item
        return serialize.encode_event(user_id, name, properties, timestamp, event_id)
    _, user_id, traits = item
    return serialize.encode_user(user_id, traits)


def join_batch(kind: str, parts: List[bytes]) -> bytes:
    """The request body for encoded items of one kind."""
    key = b'{"events":[' if kind == TRACK else b'{"users":['
    return key + b",".join(parts) + b"]}"


class Consumer(threading.Thread):
    """Daemon thread draining the client's queue. Never raises: every failure is logged and
    counted in ``stats``."""

    def __init__(
        self,
        q: "queue.SimpleQueue[Any]",
        sender: Sender,
        stats: Stats,
        *,
        flush_at: int = 100,
        flush_interval: float = 0.5,
        max_batch_bytes: int = MAX_BATCH_BYTES,
    ) -> None:
        super().__init__(name="ces-sdk-consumer", daemon=True)
        self.q = q
        self.sender = sender
        self.stats = stats
        self.flush_at = max(1, min(flush_at, MAX_BATCH_ITEMS))
        self.flush_interval = flush_interval
        self.max_batch_bytes = max(1024, min(max_batch_bytes, MAX_BATCH_BYTES))
        #: ``time.monotonic()`` after which sending is abandoned (set by ``shutdown``).
        self.deadline: Optional[float] = None
        self._deadline_set = threading.Event()
        self._carry: Optional[Tuple[str, bytes]] = None
        #: Items given up because of the shutdown deadline.
        self.abandoned = 0

    # -- control, called from other threads -------------------------------------------------

    def set_deadline(self, deadline: float) -> None:
        self.deadline = deadline
        self._deadline_set.set()

    # -- the thread ---------------------------------------------------------------------------

    def run(self) -> None:
        while True:
            try:
                batch, markers = self._collect()
                if batch:
                    self._upload(batch)
            except Exception:  # pragma: no cover - a bug here must not kill the thread silently
                log.exception("CES: unexpected error in the consumer thread")
                batch, markers = [], []
            stop = False
            for marker in markers:
                marker.done.set()
                stop = stop or marker.stop
            if stop:
                return

    def _collect(self) -> Tuple[List[Tuple[str, bytes]], List[Marker]]:
        """Block for the next batch: a list of (kind, encoded item) and the markers met."""
        batch: List[Tuple[str, bytes]] = []
        markers: List[Marker] = []
        size = 0
        started: Optional[float] = None
        if self._carry is not None:
            batch.append(self._carry)
            size = len(self._carry[1])
            self._carry = None
            started = time.monotonic()
        while len(batch) < self.flush_at:
            try:
                if started is None:
                    item = self.q.get()
                else:
                    remaining = started + self.flush_interval - time.monotonic()
                    if remaining <= 0:
                        break
                    item = self.q.get(timeout=remaining)
            except queue.Empty:
                break
            if isinstance(item, Marker):
                markers.append(item)
                break
            try:
                data = encode(item)
            except (TypeError, ValueError) as error:
                self.stats.add(invalid=1)
                log.error("CES: dropped %s for user %r: %s", _describe(item), item[1], error)
                continue
            if len(data) + 64 > self.max_batch_bytes:
                self.stats.add(invalid=1)
                log.error("CES: dropped %s for user %r: %d bytes is over the batch limit",
                          _describe(item), item[1], len(data))
                continue
            if started is None:
                started = time.monotonic()
            if batch and size + len(data) + 32 > self.max_batch_bytes:
                self._carry = (item[0], data)
                break
            batch.append((item[0], data))
            size += len(data) + 1
        return batch, markers

    def _upload(self, batch: List[Tuple[str, bytes]]) -> None:
        """Send the batch as runs of one kind, in order."""
        start = 0
        for end in range(1, len(batch) + 1):
            if end == len(batch) or batch[end][0] != batch[start][0]:
                kind = batch[start][0]
                self.send_run(kind, [data for _, data in batch[start:end]])
                start = end

    def send_run(self, kind: str, parts: List[bytes], *, split: bool = True) -> bool:
        path = EVENTS_PATH if kind == TRACK else IDENTIFY_PATH
        what = f"{len(parts)} {'events' if kind == TRACK else 'users'}"
        outcome = self.sender.send(path, join_batch(kind, parts), what=what,
                                   deadline=self.deadline, wait=self._wait)
        if outcome.ok:
            self.stats.add(sent=len(parts))
            return True
        bad = _refused_indexes(outcome.payload, "events" if kind == TRACK else "users", len(parts))
        if outcome.status == 400 and split and bad and len(bad) < len(parts):
            # The server refuses a whole batch for one bad item: drop those it named, send the rest.
            self.stats.add(failed=len(bad))
            log.error("CES: the server refused %d of %d items; sending the others again", len(bad), len(parts))
            return self.send_run(kind, [p for i, p in enumerate(parts) if i not in bad], split=False)
        self.stats.add(failed=len(parts))
        if outcome.abandoned:
            self.abandoned += len(parts)
        return False

    def _wait(self, delay: float) -> bool:
        """Sleep ``delay`` seconds before a retry; True means give up (shutdown deadline)."""
        end = time.monotonic() + delay
        while True:
            deadline = self.deadline
            if deadline is not None and end >= deadline:
                return True
            remaining = end - time.monotonic()
            if remaining <= 0:
                return False
            if deadline is None:
                self._deadline_set.wait(remaining)  # woken early when shutdown sets a deadline
            else:
                time.sleep(remaining)


def _describe(item: Tuple[Any, ...]) -> str:
    return f"event {item[2]!r}" if item[0] == TRACK else "identify"


def _refused_indexes(payload: Any, key: str, count: int) -> set:
    """Indexes of the items a 400 ``validation_error`` names in ``fields[key]``."""
    try:
        fields = payload["error"]["fields"][key]
        indexes = {int(k) for k in fields}
    except (TypeError, KeyError, ValueError, AttributeError):
        return set()
    return {i for i in indexes if 0 <= i < count}
