"""Identity verification: the site's backend signs user ids so a page edit cannot impersonate."""
from __future__ import annotations

import hashlib
import hmac
from typing import Any, Mapping, Sequence

ANONYMOUS_PREFIX = "anon-"


def user_hash(secret_key: str, user_id: str) -> str:
    """Hex HMAC-SHA256 of the user id, keyed with the site's secret key."""
    return hmac.new(secret_key.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def verify(secret_key: str | Sequence[str], user_id: str, given: str | None) -> bool:
    """Whether `given` is the user's hash under the secret key, or under any of several (a
    rotation's grace period: the new key and the one it replaced)."""
    if not given:
        return False
    keys = [secret_key] if isinstance(secret_key, str) else secret_key
    return any(hmac.compare_digest(user_hash(key, user_id), given.lower()) for key in keys)


def keys_in_force(site: Mapping[str, Any], now: float) -> list[str]:
    """The site's secret keys that sign right now: the current one, and the replaced one until its
    grace period ends."""
    keys = [site["secret_key"]]
    previous, until = site.get("previous_secret_key"), site.get("previous_secret_expires_at")
    if previous and until is not None and until > now:
        keys.append(previous)
    return keys


def is_anonymous(user_id: str) -> bool:
    """Anonymous ids are random and namespaced, so they can never collide with a real user id."""
    return user_id.startswith(ANONYMOUS_PREFIX)
