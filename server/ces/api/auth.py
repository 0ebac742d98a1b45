"""Who is calling: a site's backend (secret key)."""
from __future__ import annotations

from typing import Any

from flask import current_app, request

from .errors import ApiError


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "Send 'Authorization: Bearer <secret key>'.")
    return token.strip()


def current_site() -> dict[str, Any]:
    """The site whose secret key is in the Authorization header; 401 otherwise."""
    site = current_app.extensions["ces"].storage.site_by_secret(bearer_token())
    if site is None:
        raise ApiError(401, "unauthorized", "Unknown secret key.")
    return site
