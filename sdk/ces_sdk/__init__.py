"""ces_sdk: send events and identify users to a self-hosted Customer Effort Score server.

    import ces_sdk
    ces_sdk.track("u1", "checkout_completed", {"total": 42.5})   # never blocks, never raises on
                                                                 # network trouble
    ces_sdk.identify("u1", {"plan": "pro"})
    ces_sdk.user_hash("u1")        # for the widget's identity verification
    ces_sdk.opt_out("u1")          # "don't ask me again": sent at once, True once recorded

The module-level functions use a default ``Client`` built on first use from the environment:
``CES_SECRET_KEY`` (required; without it calls are dropped with one warning), ``CES_URL``
(default ``http://127.0.0.1:8000``) and ``CES_DISABLED=1``. Call ``configure(...)`` to set it up
in code instead, or make your own ``Client``.
"""
from __future__ import annotations

__version__ = "0.1.0"

import logging
import os
import threading
from typing import Any, Dict, Mapping, Optional

from .client import DEFAULT_HOST, Client
from .serialize import Timestamp
from .settings import server_url

__all__ = [
    "Client", "configure", "get_client", "track", "identify", "opt_out", "user_hash", "flush", "shutdown",
    "__version__",
]

logging.getLogger("ces_sdk").addHandler(logging.NullHandler())
log = logging.getLogger("ces_sdk")

_default: Optional[Client] = None
_default_lock = threading.Lock()


def configure(secret_key: Optional[str] = None, host: Optional[str] = None, **options: Any) -> Client:
    """Replace the default client (shutting the previous one down) and return it.

    Arguments not given are read from ``CES_SECRET_KEY`` and ``CES_URL``; ``options`` are those
    of ``Client`` (``sync_mode``, ``disabled``, ``flush_interval``, ...).
    """
    global _default
    client = _from_environment(secret_key, host, **options)
    with _default_lock:
        previous, _default = _default, client
    if previous is not None:
        previous.shutdown()
    return client


def get_client() -> Client:
    """The default client, built from the environment on first use."""
    global _default
    client = _default
    if client is None:
        with _default_lock:
            if _default is None:
                _default = _from_environment(None, None)
            client = _default
    return client


def _from_environment(secret_key: Optional[str], host: Optional[str], **options: Any) -> Client:
    secret_key = secret_key if secret_key is not None else os.environ.get("CES_SECRET_KEY", "")
    host = host or server_url() or DEFAULT_HOST
    if os.environ.get("CES_DISABLED", "").lower() in ("1", "true", "yes"):
        options.setdefault("disabled", True)
    if not secret_key and not options.get("disabled"):
        log.warning("CES: no secret key (set CES_SECRET_KEY); events and traits are dropped")
        options["disabled"] = True
    return Client(secret_key, host, **options)


def track(
    user_id: str,
    name: str,
    properties: Optional[Mapping[str, Any]] = None,
    *,
    timestamp: Optional[Timestamp] = None,
    event_id: Optional[str] = None,
) -> Optional[Dict[str, Any]]:
    """``Client.track`` on the default client."""
    return get_client().track(user_id, name, properties, timestamp=timestamp, event_id=event_id)


def identify(user_id: str, traits: Optional[Mapping[str, Any]] = None) -> Optional[bool]:
    """``Client.identify`` on the default client."""
    return get_client().identify(user_id, traits)


def opt_out(user_id: str, timeout: Optional[float] = None) -> Optional[bool]:
    """``Client.opt_out`` on the default client: never ask ``user_id`` again on this site."""
    return get_client().opt_out(user_id, timeout)


def user_hash(user_id: str) -> str:
    """``Client.user_hash`` on the default client (raises ``ValueError`` without a secret key)."""
    return get_client().user_hash(user_id)


def flush(timeout: Optional[float] = None) -> bool:
    """``Client.flush`` on the default client."""
    return get_client().flush(timeout)


def shutdown(timeout: Optional[float] = None) -> bool:
    """``Client.shutdown`` on the default client; the next call builds a fresh one."""
    global _default
    with _default_lock:
        client, _default = _default, None
    return client.shutdown(timeout) if client is not None else True
