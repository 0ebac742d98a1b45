"""The doorbell through Redis pub/sub: one channel that every process subscribes to.

Routing (docs/decisions.md "Doorbells: one channel", measured by bench/bench_bus.py --routing): a
doorbell is published once on `ces:doorbell`; every process receives it and looks the user up in
its own hub (a dict lookup), and only the process holding the user's sockets reads the database.
Per-user channels cost a SUBSCRIBE and an UNSUBSCRIBE on every widget connect and disconnect (a
reconnect storm after a failover is thousands of them), and presence kept in Redis costs a lookup
before every publish and goes stale when a process is killed; both for no latency gained.

Redis down: `ring` stops publishing at once (no request waits on a dead broker), the listener
retries with back-off, the outage is logged once and the recovery once. Meanwhile doorbells ring
in this process only and the sweep delivers across processes.
"""
from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING, Sequence

import redis

if TYPE_CHECKING:  # the interface; bus.py imports this module when a deployment asks for Redis
    from .bus import Handler

log = logging.getLogger(__name__)

CHANNEL = "ces:doorbell"
PUBLISH_TIMEOUT = 0.5   # seconds a ring may wait on Redis before the bus counts it down
RETRY_MAX = 5.0         # the listener's back-off between reconnection attempts, at most
HEALTH_CHECK = 5        # seconds between pings on an idle subscription (a silent network cut)
READY_WAIT = 3.0        # seconds a starting process waits for its subscription before serving


def _redacted(url: str) -> str:
    """The URL without its password, for the log."""
    head, sep, tail = url.rpartition("@")
    return f"{url.split('://', 1)[0]}://…@{tail}" if sep else url


class RedisBus:
    shared = True

    def __init__(self, url: str, process_id: str, channel: str = CHANNEL) -> None:
        self.url, self.process_id, self.channel = url, process_id, channel
        self._publisher = redis.Redis.from_url(url, socket_timeout=PUBLISH_TIMEOUT,
                                               socket_connect_timeout=PUBLISH_TIMEOUT)
        self._handler: Handler | None = None
        self._up = False
        self._announced = False  # an outage is logged once, until Redis is back
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._state_lock = threading.Lock()
        self._subscribed = threading.Event()

    @property
    def up(self) -> bool:
        return self._up

    def start(self, handler: Handler) -> None:
        self._handler = handler
        self._thread = threading.Thread(target=self._listen, name="ces-doorbell", daemon=True)
        self._thread.start()
        # Subscribed before the process serves: a doorbell rung for a widget that connects to it
        # right away is not lost. Redis down at start: serve anyway (the sweep delivers).
        self._subscribed.wait(READY_WAIT)

    def ring(self, site_id: int, user_ids: Sequence[str]) -> None:
        if self._up:  # else the sweep carries it to the other processes
            try:
                self._publisher.publish(self.channel, json.dumps([self.process_id, site_id, list(user_ids)]))
            except (redis.RedisError, OSError) as err:
                self._down(err)
        # This process's own sockets without a round trip through Redis (after the publish: the
        # other processes need not wait for this one's sends).
        if self._handler is not None:
            self._handler(site_id, user_ids)

    def stop(self) -> None:
        self._stopped.set()
        self._up = False

    # -- the listener ------------------------------------------------------------------------
    def _listen(self) -> None:
        wait = 0.2
        while not self._stopped.is_set():
            pubsub = None
            try:
                client = redis.Redis.from_url(self.url, socket_connect_timeout=1.0, socket_keepalive=True,
                                              health_check_interval=HEALTH_CHECK)
                pubsub = client.pubsub()
                pubsub.subscribe(self.channel)
                # Redis's confirmation: from now on no doorbell published is missed.
                confirmed = pubsub.get_message(timeout=READY_WAIT)
                if confirmed is None or confirmed.get("type") != "subscribe":
                    raise redis.ConnectionError("no subscription confirmation")
                self._back()
                self._subscribed.set()
                wait = 0.2
                while not self._stopped.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._deliver(message["data"])
                    elif not self._up:
                        self._probe()  # a publish failed while this subscription stayed up
            except (redis.RedisError, OSError) as err:
                self._down(err)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:
                        pass
            self._stopped.wait(wait)
            wait = min(wait * 2, RETRY_MAX)

    def _probe(self) -> None:
        try:
            self._publisher.ping()
        except (redis.RedisError, OSError) as err:
            self._down(err)
            return
        self._back()

    def _deliver(self, data: bytes) -> None:
        try:
            sender, site_id, user_ids = json.loads(data)
            if sender == self.process_id:
                return  # rung here already
            if self._handler is not None:
                self._handler(int(site_id), [str(u) for u in user_ids])
        except Exception:  # one bad doorbell must not stop the listener
            log.exception("doorbell %r failed", data[:200])

    def _down(self, err: BaseException) -> None:
        with self._state_lock:
            self._up = False
            if self._announced:
                return
            self._announced = True
        log.warning("Redis at %s unreachable (%s): doorbells ring in this process only; other processes "
                    "send prompts at their next sweep. Retrying in the background.", _redacted(self.url), err)

    def _back(self) -> None:
        with self._state_lock:
            self._up = True
            was_down, self._announced = self._announced, False
        if was_down:
            log.warning("Redis at %s reachable again: doorbells ring across processes.", _redacted(self.url))
        else:
            log.info("doorbells through Redis at %s", _redacted(self.url))
