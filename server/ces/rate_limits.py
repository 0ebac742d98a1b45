"""Rate limits: how much one secret key, address, socket or widget user may ask of the server.

Built on Flask-Limiter (the HTTP limits, declared on the routes they guard) and the `limits`
strategies it wraps (the websocket limits, checked per message), over one storage chosen by URI
(`memory://` in the process; `redis://…` to share counters between processes). Counting is a
sliding window counter: constant memory per key, no double burst at a window's edge.

Every limit has a name, a server-wide default (config `LIMIT_<NAME>`, e.g. CES_LIMIT_WS_EVENTS_PER_USER)
and, for those tied to a site, a per-site override in the site's settings (`settings.limits.<name>`).
Values use the `limits` notation: "600/minute", "10/second;300/minute" (every part must hold).
docs/deployment.md ("Limits") lists them with their defaults.
"""
from __future__ import annotations

import functools
import logging
import math
import threading
import weakref
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from flask import Flask, current_app, has_request_context, jsonify, request
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.errors import RateLimitExceeded
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage

from .api.errors import ApiError
from .core import protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    config_key: str
    per_site: bool  # may a site's settings.limits override it
    counts: str     # for messages and docs


RULES: dict[str, Rule] = {
    "api_events_per_key": Rule("LIMIT_API_EVENTS_PER_KEY", True,
                               "events (and identified users) sent with one secret key"),
    "api_requests_per_ip": Rule("LIMIT_API_REQUESTS_PER_IP", False,
                                "requests to POST /api/v1/events and /api/v1/identify from one address"),
    "auth_failures_per_ip": Rule("LIMIT_AUTH_FAILURES_PER_IP", False,
                                 "API requests with a missing or wrong key or token from one address"),
    "login_failures_per_ip": Rule("LIMIT_LOGIN_FAILURES_PER_IP", False,
                                  "failed dashboard logins from one address"),
    "ws_messages_per_socket": Rule("LIMIT_WS_MESSAGES_PER_SOCKET", True, "messages on one widget socket"),
    "ws_messages_per_user": Rule("LIMIT_WS_MESSAGES_PER_USER", True,
                                 "messages from one widget user, over all their sockets"),
    "ws_events_per_user": Rule("LIMIT_WS_EVENTS_PER_USER", True, "events one widget user may have stored"),
    "ws_events_per_ip": Rule("LIMIT_WS_EVENTS_PER_IP", False, "widget events from one address"),
}
SITE_RULES = tuple(name for name, rule in RULES.items() if rule.per_site)


class RateLimited(Exception):
    """A request or message over one of the limits; `retry_after` seconds until it may pass."""

    def __init__(self, name: str, retry_after: int) -> None:
        super().__init__(f"Too many {RULES[name].counts} ({name}); retry in {retry_after} s.")
        self.name, self.retry_after = name, retry_after
        self.message = str(self)

    def for_message(self, ref: str | None) -> "RateLimitedMessage":
        return RateLimitedMessage(self, ref)


class RateLimitedMessage(protocol.ProtocolError):
    """The websocket's `rate_limited` error: the refused message's ref, and when to try again."""

    def __init__(self, refused: RateLimited, ref: str | None) -> None:
        super().__init__("rate_limited", refused.message, None, ref)
        self.refused = refused

    def to_message(self) -> dict[str, Any]:
        return {**super().to_message(), "limit": self.refused.name, "retry_after": self.refused.retry_after}


@functools.lru_cache(maxsize=1024)
def parse(value: str) -> tuple[RateLimitItem, ...]:
    """The items of a limit string; ValueError when it is not one."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a limit like '600/minute' or '10/second;300/minute'")
    try:
        return tuple(parse_many(value))
    except ValueError:
        raise ValueError(f"{value[:60]!r} is not a limit: write e.g. '600/minute' or '10/second;300/minute'") from None


def settings_problems(value: Any) -> dict[str, str]:
    """Why `value` is not a valid settings.limits object (field -> problem); {} when it is."""
    if not isinstance(value, dict):
        return {"_schema": "An object of limit names to limits, e.g. {\"ws_events_per_user\": \"30/minute\"}."}
    problems: dict[str, str] = {}
    for name, limit in value.items():
        if name not in SITE_RULES:
            problems[str(name)] = f"Not a per-site limit; one of: {', '.join(SITE_RULES)}."
        elif limit is not None:
            try:
                parse(limit)
            except ValueError as err:
                problems[name] = str(err)
    return problems


class SweepingMemoryStorage(MemoryStorage):
    """`limits`' in-process storage, swept of expired keys by one thread, once a second.

    Reads already ignore expired keys; the sweep only frees memory. The stock storage re-arms a
    `threading.Timer` (10 ms) from inside every count. Measured with 30,000 keys (about one per
    recently active socket) a pass takes ~2 ms: a fifth of a core. Worse, under gevent starting a
    thread yields to the loop: thousands of sockets counting their `hello` at once each saw the
    timer not yet alive, each started another and yielded in the middle of their message, with
    an SQLite connection borrowed, so the pool opened one per socket (bench/bench_sockets.py: 200 KB
    per idle socket instead of 40, then "unable to open database file" at 10,000 sockets). One
    sweeper, started once, yields once.
    """

    STORAGE_SCHEME = ["ces-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One lock for every key instead of one per key: each count is a few dict operations, and
        # a lock object per counted key was a kilobyte per open socket under gevent.
        self.locks = _OneLock()  # type: ignore[assignment]

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the base class's private scheduler
        if getattr(self, "_sweeper", None) is not None:
            return
        self._sweeper = threading.Thread(target=_sweep, args=(weakref.ref(self),), name="ces-ratelimit-sweep",
                                         daemon=True)
        self._sweeper.start()


class _OneLock:
    """What MemoryStorage asks of its `locks` mapping (`[key]`, `pop`, `clear`), with one lock."""

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def __getitem__(self, key: str) -> Any:
        return self._lock

    def pop(self, key: str, default: Any = None) -> Any:
        return default

    def clear(self) -> None:
        pass


def _sweep(storage_ref: "weakref.ref[SweepingMemoryStorage]") -> None:
    """Expire the storage's old keys every SWEEP_SECONDS while the storage exists."""
    while True:
        time.sleep(SweepingMemoryStorage.SWEEP_SECONDS)
        storage = storage_ref()
        if storage is None:
            return
        try:
            storage._MemoryStorage__expire_events()  # type: ignore[attr-defined]
        except Exception:  # a bad sweep must not end the sweeping
            log.exception("rate-limit sweep failed")
        del storage


def storage_uri(configured: str) -> str:
    return "ces-memory://" if configured.strip() in ("memory://", "") else configured


class RateLimits:
    """The limits of one app (app.extensions["ces_limits"]): defaults from its config, the
    Flask-Limiter extension for the HTTP limits, and checks for the websocket and the API."""

    def __init__(self, app: Flask) -> None:
        self.enabled = bool(app.config.get("RATELIMIT_ENABLED", True))
        self.defaults: dict[str, tuple[RateLimitItem, ...]] = {}
        self.raw = {name: app.config[rule.config_key] for name, rule in RULES.items()}
        for name, rule in RULES.items():
            try:
                self.defaults[name] = parse(app.config[rule.config_key])
            except ValueError as err:
                raise ValueError(f"config {rule.config_key} (CES_{rule.config_key}): {err}") from None
        self.limiter = Limiter(
            key_func=client_ip, storage_uri=storage_uri(app.config["RATELIMIT_STORAGE_URI"]),
            strategy="sliding-window-counter", headers_enabled=False, enabled=self.enabled,
            application_limits=[ApplicationLimit(
                limit_provider=self._provider("auth_failures_per_ip"), scope="auth_failures_per_ip",
                error_message="auth_failures_per_ip",
                # Counted when the API answers 401, checked before anything else: past the limit,
                # an address gets 429 before its key is even looked at.
                deduct_when=lambda response: response.status_code == 401,
                exempt_when=lambda: not request.path.startswith("/api/"))])
        self.limiter.init_app(app)
        app.errorhandler(RateLimitExceeded)(self._breached)
        app.errorhandler(RateLimited)(too_many_response)
        self._warned_proxy = False

    def _provider(self, name: str) -> Callable[[], str]:
        """The server-wide value of `name`, for Flask-Limiter (which parses the same notation)."""
        value = self.raw[name]
        return lambda: value

    # -- HTTP ---------------------------------------------------------------------------------
    def guard_requests_per_ip(self, blueprint: Any) -> None:
        """Every route of `blueprint` counts against api_requests_per_ip (one shared count)."""
        self.limiter.shared_limit(self._provider("api_requests_per_ip"), scope="api_requests_per_ip",
                                  error_message="api_requests_per_ip")(blueprint)

    def _breached(self, err: RateLimitExceeded) -> Any:
        name = str(err.description)
        current = self.limiter.current_limit
        retry_after = max(1, math.ceil(current.reset_at - time.time())) if current is not None else 1
        if name not in RULES:  # not one of ours (cannot happen today); keep the shape anyway
            name = "api_requests_per_ip"
        return too_many_response(RateLimited(name, retry_after))

    # -- checks -------------------------------------------------------------------------------
    def text(self, name: str, site: Mapping[str, Any] | None) -> str:
        """The limit `name` for `site`, as written: the site's override when it has a valid one."""
        if site is not None and RULES[name].per_site:
            override = ((site.get("settings") or {}).get("limits") or {}).get(name)
            if override is not None:
                try:
                    parse(override)
                    return override
                except ValueError as err:
                    log.warning("site %s: settings.limits.%s ignored: %s", site.get("id"), name, err)
        return self.raw[name]

    def items(self, name: str, site: Mapping[str, Any] | None) -> tuple[RateLimitItem, ...]:
        return parse(self.text(name, site))

    def spend(self, name: str, site: Mapping[str, Any] | None, *key: str, cost: int = 1) -> None:
        """Count `cost` against limit `name` for `key`; RateLimited (nothing counted) when over."""
        if not self.enabled:
            return
        strategy = self.limiter.limiter
        items = self.items(name, site)
        for item in items:
            if item.amount < cost:
                if cost == 1:  # a limit of 0: nothing of this kind is accepted (a site may want that)
                    raise RateLimited(name, item.get_expiry())
                # Waiting would not help a batch larger than the whole limit.
                raise ApiError(400, "over_rate_limit", f"{cost} at once is more than the limit {name} allows "
                               f"({item.amount} per {item.GRANULARITY.name}); send smaller batches.",
                               {"events": [f"At most {item.amount} per request under {name}."]})
            if not strategy.test(item, name, *key, cost=cost):
                reset = strategy.get_window_stats(item, name, *key).reset_time
                raise RateLimited(name, max(1, math.ceil(reset - time.time())))
        for item in items:
            strategy.hit(item, name, *key, cost=cost)

    def warn_if_behind_proxy(self) -> None:
        """Once: requests carry X-Forwarded-For but no proxy is trusted, so every client looks
        like the proxy and shares its per-address limits."""
        if not self._warned_proxy and has_request_context() and request.headers.get("X-Forwarded-For") \
                and not current_app.config.get("PROXY_HOPS"):
            self._warned_proxy = True
            log.warning("requests carry X-Forwarded-For but CES_PROXY_HOPS is 0: every client counts as %s "
                        "for the per-address limits (docs/deployment.md, Limits)", request.remote_addr)


def client_ip() -> str:
    """The client's address (after ProxyFix, when proxies are trusted)."""
    return (request.remote_addr or "unknown") if has_request_context() else "unknown"


def too_many_response(err: RateLimited) -> Any:
    response = jsonify(error={"code": "rate_limited", "message": err.message, "limit": err.name,
                              "retry_after": err.retry_after})
    response.status_code = 429
    response.headers["Retry-After"] = str(err.retry_after)
    return response


def limits_of_app() -> RateLimits | None:
    return current_app.extensions.get("ces_limits")


def spend_api_events(site: Mapping[str, Any], count: int) -> None:
    """POST /api/v1/events and /identify: `count` events (or users) against the site's key."""
    limits = limits_of_app()
    if limits is not None:
        limits.warn_if_behind_proxy()
        limits.spend("api_events_per_key", site, str(site["id"]), cost=max(1, count))


def socket_limits(conn: Any) -> Iterable[tuple[str, tuple[str, ...]]]:
    """The message limits of a socket: per socket, and per user once the socket said who."""
    yield "ws_messages_per_socket", (conn.session,)
    if conn.key is not None:
        yield "ws_messages_per_user", (str(conn.key[0]), conn.key[1])


def spend_ws_message(conn: Any) -> RateLimited | None:
    """Count one message of `conn`; the refusal (not raised: the caller adds the message's ref)."""
    limits = limits_of_app()
    if limits is None:
        return None
    try:
        for name, key in socket_limits(conn):
            limits.spend(name, conn.site, *key)
    except RateLimited as refused:
        return refused
    return None


def spend_ws_event(conn: Any, ref: str | None) -> None:
    """Count one widget event of `conn`'s user, and of its address; `rate_limited` when over."""
    limits = limits_of_app()
    if limits is None:
        return
    try:
        limits.spend("ws_events_per_user", conn.site, str(conn.key[0]), conn.key[1])
        limits.spend("ws_events_per_ip", conn.site, client_ip())
    except RateLimited as refused:
        raise refused.for_message(ref) from None


def init_app(app: Flask) -> RateLimits:
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops:  # trust X-Forwarded-For/-Proto from exactly this many proxies in front of us
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    limits = RateLimits(app)
    app.extensions["ces_limits"] = limits
    return limits
