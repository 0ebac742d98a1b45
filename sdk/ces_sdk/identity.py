"""The hash that proves to the widget's identity verification that a user id comes from the site.

The site's backend renders ``user_hash(user_id)`` into the page next to the user id; the widget
sends both in its ``hello``; the server recomputes the hash with the site's secret key (see
``docs/protocol.md``). The secret key itself never reaches the browser.
"""
from __future__ import annotations

import hashlib
import hmac


def user_hash(secret_key: str, user_id: str) -> str:
    """Hex HMAC-SHA256 of the UTF-8 ``user_id`` keyed with the UTF-8 ``secret_key``."""
    if not secret_key:
        raise ValueError("a secret key is needed to compute a user hash (set CES_SECRET_KEY)")
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        user_id = str(user_id)
    if not isinstance(user_id, str) or not user_id:
        raise ValueError("user_id must be a non-empty string")
    return hmac.new(secret_key.encode("utf-8"), user_id.encode("utf-8"), hashlib.sha256).hexdigest()
