"""Standard Webhooks signatures (https://www.standardwebhooks.com/): pure functions, no I/O.

A secret is `whsec_` followed by base64 of random bytes; the HMAC key is those bytes. The signed
content is `"{webhook-id}.{webhook-timestamp}.{body}"`, the signature header is a space-separated
list of `v1,<base64 HMAC-SHA256>` (several while a secret is being rotated).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Mapping, Sequence

PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60


class SignatureError(ValueError):
    pass


def generate_secret(nbytes: int = 24) -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(nbytes)).decode()


def secret_key(secret: str) -> bytes:
    raw = secret[len(PREFIX):] if secret.startswith(PREFIX) else secret
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError as err:
        raise SignatureError("secret is not base64") from err


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for one message: `v1,<base64>`."""
    content = f"{msg_id}.{int(timestamp)}.".encode() + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str | Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers; with several secrets (a rotation's overlap), one signature per secret,
    space-separated, the newest first."""
    all_secrets = [secret] if isinstance(secret, str) else list(secret)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(timestamp)),
            "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in all_secrets)}


def verify(secret: str, received: Mapping[str, str], body: bytes, now: float,
           tolerance: int = TOLERANCE_SECONDS) -> None:
    """Raise SignatureError unless `received` headers carry a valid, fresh signature of `body`."""
    lower = {k.lower(): v for k, v in received.items()}
    msg_id, ts, sigs = lower.get("webhook-id"), lower.get("webhook-timestamp"), lower.get("webhook-signature")
    if not msg_id or not ts or not sigs:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(ts)
    except ValueError as err:
        raise SignatureError("webhook-timestamp is not an integer") from err
    if abs(now - timestamp) > tolerance:
        raise SignatureError("webhook-timestamp is outside the tolerance")
    expected = sign(secret, msg_id, timestamp, body)
    for candidate in sigs.split():
        if hmac.compare_digest(candidate, expected):
            return
    raise SignatureError("no matching signature")
