"""Configuration: defaults, then an optional config file, then CES_* environment variables.

The later source wins, so a deployment can ship a file and still override one value
from the environment.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

DEFAULTS: dict[str, Any] = {
    "DATABASE": "ces.db",
    "SECRET_KEY": None,          # signs nothing user-facing yet; generated when absent
    "HOST": "127.0.0.1",
    "PORT": 8000,
    "MAX_CONTENT_LENGTH": 1024 * 1024,   # bodies over 1 MB are refused with 413
    "MAX_BATCH": 1000,
    "WS_MAX_MESSAGE": 16 * 1024,
    "WS_PING_INTERVAL": 25,
    "SQLITE_SYNCHRONOUS": "FULL",  # an acked answer must survive a power cut
    "DEMO": False,
    "WEBHOOK_TIMEOUT": 10.0,        # seconds a receiver may take
    "WEBHOOK_BACKOFF_BASE": 2.0,    # first retry after this many seconds, doubling
    "WEBHOOK_BACKOFF_MAX": 3600.0,
    "WEBHOOK_MAX_ATTEMPTS": 8,
    # Rate limits (server/ces/rate_limits.py, docs/deployment.md "Limits"): "N/second|minute|hour|day",
    # several joined by ";". The ws_* and api_events_per_key ones can be overridden per site.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",       # or redis://host:6379 (pip install redis) for shared counts
    "LIMIT_API_EVENTS_PER_KEY": "100000/minute",  # events + identified users per secret key
    "LIMIT_API_REQUESTS_PER_IP": "12000/minute",  # POST /api/v1/events and /identify
    "LIMIT_AUTH_FAILURES_PER_IP": "30/minute",    # 401s from the API; past it, 429 before any key check
    "LIMIT_WS_MESSAGES_PER_SOCKET": "300/minute",
    "LIMIT_WS_MESSAGES_PER_USER": "600/minute",
    "LIMIT_WS_EVENTS_PER_USER": "60/minute;1000/day",
    "LIMIT_WS_EVENTS_PER_IP": "1200/minute;100000/day",
    "PROXY_HOPS": 0,   # reverse proxies in front of the server whose X-Forwarded-For is trusted
}

# Environment values are strings; these keys are converted to the type of their default.
_INT_KEYS = {"PORT", "MAX_CONTENT_LENGTH", "MAX_BATCH", "WS_MAX_MESSAGE", "WS_PING_INTERVAL",
             "WEBHOOK_MAX_ATTEMPTS", "PROXY_HOPS"}
_FLOAT_KEYS = {"WEBHOOK_TIMEOUT", "WEBHOOK_BACKOFF_BASE", "WEBHOOK_BACKOFF_MAX"}
_BOOL_KEYS = {"DEMO", "RATELIMIT_ENABLED"}


def load_file(path: str | os.PathLike) -> dict[str, Any]:
    """A JSON config file: an object of the same keys as DEFAULTS."""
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict):
        raise ValueError(f"config file {path}: expected a JSON object")
    return {k.upper(): v for k, v in data.items()}


def from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
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
