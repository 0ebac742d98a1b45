"""Standard Webhooks signatures, checked against an independent implementation and a published vector."""
from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from ces.core import webhook_signing as ws


def test_matches_independent_hmac() -> None:
    secret = ws.generate_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 24
    body = b'{"type":"answer.created"}'
    mac = hmac.new(base64.b64decode(secret[6:]), b"msg_1.1700000000." + body, hashlib.sha256).digest()
    assert ws.sign(secret, "msg_1", 1700000000, body) == "v1," + base64.b64encode(mac).decode()


def test_standard_webhooks_reference_vector() -> None:
    # The example from the Standard Webhooks specification / reference libraries.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert ws.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == \
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_verify_accepts_fresh_and_refuses_tampered_or_stale() -> None:
    secret = ws.generate_secret()
    headers = ws.headers(secret, "msg_2", 1000, b"{}")
    ws.verify(secret, headers, b"{}", now=1010)
    rotated = {**headers, "webhook-signature": "v1,AAAA " + headers["webhook-signature"]}
    ws.verify(secret, rotated, b"{}", now=1010)
    with pytest.raises(ws.SignatureError):
        ws.verify(secret, headers, b"{ }", now=1010)
    with pytest.raises(ws.SignatureError):
        ws.verify(secret, headers, b"{}", now=1000 + 301)
    with pytest.raises(ws.SignatureError):
        ws.verify(ws.generate_secret(), headers, b"{}", now=1000)
    with pytest.raises(ws.SignatureError):
        ws.verify(secret, {"webhook-id": "x"}, b"{}", now=1000)
