"""Configuration: defaults, then an optional config file, then CES_* environment variables.

The later source wins, so a deployment can ship a file and still override one value
from the environment.
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any, Mapping

DEFAULTS: dict[str, Any] = {
    "DATABASE": "ces.db",
    "SECRET_KEY": None,          # signs dashboard sessions; absent: the installation's own, kept in the database
    "LISTEN_HOST": "127.0.0.1",  # the address `ces serve` binds (CES_LISTEN_HOST)
    "PORT": 8000,
    "SECRET_GRACE_SECONDS": 86400,  # a rotated secret key or webhook secret keeps working this long
    "MAX_CONTENT_LENGTH": 1024 * 1024,   # bodies over 1 MB are refused with 413
    "MAX_BATCH": 1000,
    "WS_MAX_MESSAGE": 16 * 1024,
    "WS_PING_INTERVAL": 25,
    "WS_HELLO_TIMEOUT": 30,        # seconds an upgraded socket has to send 'hello'
    "WS_MAX_PER_ADDRESS": 500,     # open sockets from one client address (0: no cap)
    "WS_MAX_PER_USER": 20,         # open sockets (tabs) of one user of a site (0: no cap)
    "SQLITE_SYNCHRONOUS": "FULL",  # an acked answer must survive a power cut
    "DEMO": False,
    "THEME_GROWTH_INTERVAL": 3600,  # seconds between background theme.grown checks (0: never)
    "THEME_GROWTH_DAYS": 7,         # theme.grown compares the last N whole days with the N before
    "WEBHOOK_TIMEOUT": 10.0,        # seconds a receiver may take
    "WEBHOOK_BACKOFF_BASE": 2.0,    # first retry after this many seconds, doubling
    "WEBHOOK_BACKOFF_MAX": 3600.0,
    "WEBHOOK_MAX_ATTEMPTS": 8,
    "RETENTION_INTERVAL": 3600,     # seconds between background retention runs (0: never)
    "ALERTS_INTERVAL": 900,         # seconds between checks for score drops and digests (0: never)
    "ANSWER_PROPS_INTERVAL": 60.0,  # seconds between background copies into answer_props (0: never; reports then copy)
    # Rate limits (server/ces/rate_limits.py, docs/deployment.md "Limits"): "N/second|minute|hour|day",
    # several joined by ";". The ws_* and api_events_per_key ones can be overridden per site.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",       # or redis://host:6379 (pip install redis) for shared counts
    "LIMIT_API_EVENTS_PER_KEY": "100000/minute",  # events + identified users per secret key
    "LIMIT_API_REQUESTS_PER_IP": "12000/minute",  # POST /api/v1/events and /identify
    "LIMIT_AUTH_FAILURES_PER_IP": "30/minute",    # 401s from the API; past it, 429 before any key check
    "LIMIT_LOGIN_FAILURES_PER_IP": "10/minute;100/day",  # failed dashboard logins
    "LIMIT_WS_MESSAGES_PER_SOCKET": "300/minute",
    "LIMIT_WS_MESSAGES_PER_USER": "600/minute",
    "LIMIT_WS_EVENTS_PER_USER": "60/minute;1000/day",
    "LIMIT_WS_EVENTS_PER_IP": "1200/minute;100000/day",
    "PROXY_HOPS": 0,   # reverse proxies in front of the server whose X-Forwarded-For is trusted
    # Several processes or machines (docs/deployment.md "Several processes"): the doorbell between
    # them, and how often each sends what no doorbell brought (the most a lost one delays a prompt).
    "REDIS_URL": None,        # e.g. redis://127.0.0.1:6379/0; unset: one process
    "SWEEP_INTERVAL": 2.0,    # seconds
}

# Environment values are strings; these keys are converted to the type of their default.
_INT_KEYS = {"PORT", "SECRET_GRACE_SECONDS", "MAX_CONTENT_LENGTH", "MAX_BATCH", "WS_MAX_MESSAGE", "WS_PING_INTERVAL",
             "WS_HELLO_TIMEOUT", "WS_MAX_PER_ADDRESS", "WS_MAX_PER_USER",
             "WEBHOOK_MAX_ATTEMPTS", "RETENTION_INTERVAL", "ALERTS_INTERVAL", "PROXY_HOPS"}
_FLOAT_KEYS = {"WEBHOOK_TIMEOUT", "WEBHOOK_BACKOFF_BASE", "WEBHOOK_BACKOFF_MAX", "SWEEP_INTERVAL"}
_BOOL_KEYS = {"DEMO", "RATELIMIT_ENABLED"}
_INT_KEYS |= {"THEME_GROWTH_INTERVAL", "THEME_GROWTH_DAYS"}
_FLOAT_KEYS |= {"ANSWER_PROPS_INTERVAL"}


def load_file(path: str | os.PathLike) -> dict[str, Any]:
    """A JSON config file: an object of the same keys as DEFAULTS."""
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict):
        raise ValueError(f"config file {path}: expected a JSON object")
    return {k.upper(): v for k, v in data.items()}


class SettingDeprecationWarning(DeprecationWarning):
    """A setting that still works under an old name: shown to the person running the command."""


warnings.simplefilter("default", SettingDeprecationWarning)  # DeprecationWarning alone is hidden


def _deprecated_host(environ: Mapping[str, str]) -> dict[str, Any]:
    """CES_HOST once meant the address the server binds here and the server's URL in the SDK. The
    server now reads CES_LISTEN_HOST, the SDK CES_URL; CES_HOST still works, with a warning."""
    raw = environ.get("CES_HOST")
    if raw is None or environ.get("CES_LISTEN_HOST") is not None:
        return {}
    if "://" in raw:  # a URL: the SDK's setting, not an address to bind
        warnings.warn("CES_HOST is a URL (the SDK's setting, now CES_URL): the server ignores it; "
                      "set CES_LISTEN_HOST for the address it binds.", SettingDeprecationWarning, stacklevel=3)
        return {}
    warnings.warn("CES_HOST is deprecated for the server: set CES_LISTEN_HOST instead.", SettingDeprecationWarning,
                  stacklevel=3)
    return {"LISTEN_HOST": raw}


def from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = _deprecated_host(environ)
    for key in DEFAULTS:
        raw = environ.get(f"CES_{key}")
        if raw is None:
            continue
        if key in _INT_KEYS:
            out[key] = int(raw)
        elif key in _FLOAT_KEYS:
            out[key] = float(raw)
        elif key in _BOOL_KEYS:
            out[key] = raw.lower() in {"1", "true", "yes", "on"}
        else:
            out[key] = raw
    return out


def resolve(overrides: Mapping[str, Any] | None = None,
            environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The effective configuration: defaults < CES_CONFIG file < CES_* env < overrides."""
    environ = os.environ if environ is None else environ
    config = dict(DEFAULTS)
    if environ.get("CES_CONFIG"):
        config.update(load_file(environ["CES_CONFIG"]))
    config.update(from_env(environ))
    config.update(overrides or {})
    return config
