"""Who is calling: a site's backend (secret key) or a product team (admin token)."""
from __future__ import annotations

from typing import Any

from flask import current_app, request

from .errors import ApiError


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "Send 'Authorization: Bearer <secret key or admin token>'.")
    return token.strip()


def current_site() -> dict[str, Any]:
    """The site whose secret key is in the Authorization header; 401 otherwise."""
    site = current_app.extensions["ces"].storage.site_by_secret(bearer_token())
    if site is None:
        raise ApiError(401, "unauthorized", "Unknown secret key.")
    return site


def current_admin() -> dict[str, Any]:
    """The admin token's row; 401 for a missing, unknown or revoked token."""
    admin = current_app.extensions["ces"].storage.admin_by_token(bearer_token())
    if admin is None:
        raise ApiError(401, "unauthorized", "Unknown or revoked admin token.")
    return admin


def site_or_admin() -> dict[str, Any] | None:
    """For read endpoints open to both: the calling site, or None for an admin (sees every site)."""
    token = bearer_token()
    storage = current_app.extensions["ces"].storage
    site = storage.site_by_secret(token)
    if site is not None:
        return site
    if storage.admin_by_token(token) is not None:
        return None
    raise ApiError(401, "unauthorized", "Unknown secret key or admin token.")
