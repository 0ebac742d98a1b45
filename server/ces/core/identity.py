"""Identity verification: the site's backend signs user ids so a page edit cannot impersonate."""
from __future__ import annotations

import hashlib
import hmac

ANONYMOUS_PREFIX = "anon-"


def user_hash(secret_key: str, user_id: str) -> str:
    """Hex HMAC-SHA256 of the user id, keyed with the site's secret key."""
    return hmac.new(secret_key.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def verify(secret_key: str, user_id: str, given: str | None) -> bool:
    if not given:
        return False
    return hmac.compare_digest(user_hash(secret_key, user_id), given.lower())


def is_anonymous(user_id: str) -> bool:
    """Anonymous ids are random and namespaced, so they can never collide with a real user id."""
    return user_id.startswith(ANONYMOUS_PREFIX)
