"""Who is calling: a site's backend (secret key) or a product team (admin token), and what the
admin token's scope lets it reach.

Scopes (docs/api.md, "Token scopes"): a token is for every site or for one site, and read-only or
read-write. `current_admin()` enforces both for the request being served, in one place, for every
admin endpoint: a write method with a read-only token is a 403; an object of the URL (a site,
survey, trigger, webhook, answer) on a site the token does not reach is a 404 worded exactly as
for a missing one, so a token learns nothing about other sites. Lists and bodies are narrowed by
the endpoints through `Scope.site_filter()` and `Scope.require_site()`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import current_app, g, request
from marshmallow import ValidationError

from ..storage import Storage
from ..storage.sites import SiteStore
from ..storage.tokens import TokenStore
from .errors import ApiError, not_found

READ_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "Send 'Authorization: Bearer <secret key or admin token>'.")
    return token.strip()


def _storage() -> Storage:
    return current_app.extensions["ces"].storage


def current_site() -> dict[str, Any]:
    """The site whose secret key is in the Authorization header (or whose previous key, inside its
    grace period after a rotation); 401 otherwise."""
    site = SiteStore(_storage()).by_secret(bearer_token(), current_app.extensions["ces"].now())
    if site is None:
        raise ApiError(401, "unauthorized", "Unknown secret key.")
    return site


@dataclass(frozen=True)
class Scope:
    """What one admin token may reach."""

    token_id: int
    name: str
    site_id: int | None   # None: every site
    read_only: bool

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Scope":
        return cls(row["id"], row["name"], row.get("site_id"), bool(row.get("read_only")))

    @property
    def all_sites(self) -> bool:
        return self.site_id is None

    def sees(self, site_id: int | None) -> bool:
        return self.site_id is None or site_id == self.site_id

    def site_filter(self, asked: int | None) -> int | None:
        """The site a list is narrowed to: the one asked for, or this token's site; a site the token
        does not reach lists nothing (0 is never a site id)."""
        if self.site_id is None:
            return asked
        return self.site_id if asked in (None, self.site_id) else 0

    def require_site(self, site_id: int, field: str = "site_id") -> None:
        """A body or query naming a site the token does not reach: refused as an unknown site."""
        if not self.sees(site_id):
            raise ValidationError({field: [f"Unknown site {site_id}."]})

    def require_all_sites(self, what: str) -> None:
        if self.site_id is not None:
            raise ApiError(403, "forbidden", f"This token is for one site only: it cannot {what}.")

    def require_write(self) -> None:
        if self.read_only:
            raise ApiError(403, "forbidden", "This token is read-only: it can read, not change anything.")


def _site_of(kind: str, sql: str) -> Callable[[Storage, Any], int | None]:
    def owner(storage: Storage, row_id: Any) -> int | None:
        row = storage.one(sql, [row_id])
        return None if row is None else row["site_id"]
    owner.kind = kind  # type: ignore[attr-defined]
    return owner


# The URL's objects and how to find their site: the scope check of every admin endpoint.
OWNERS: dict[str, Callable[[Storage, Any], int | None]] = {
    "site_id": _site_of("site", "select id as site_id from sites where id = ?"),
    "survey_id": _site_of("survey", "select site_id from surveys where id = ?"),
    "trigger_id": _site_of("trigger", "select site_id from triggers where id = ?"),
    "webhook_id": _site_of("webhook", "select site_id from webhooks where id = ?"),
    "answer_id": _site_of("answer", "select site_id from answers where id = ?"),
}


def authorize(scope: Scope, method: str, view_args: dict[str, Any] | None) -> None:
    """Refuse what `scope` may not do on this request: 403 for a write with a read-only token,
    the object's own 404 for an object of a site the token does not reach."""
    if method not in READ_METHODS:
        scope.require_write()
    if scope.site_id is None:
        return
    storage = _storage()
    for arg, value in (view_args or {}).items():
        owner = OWNERS.get(arg)
        if owner is not None and owner(storage, value) not in (None, scope.site_id):
            raise not_found(owner.kind, value)  # type: ignore[attr-defined]


def current_scope() -> Scope:
    """The admin token's scope, checked against this request (once per request)."""
    scope = g.get("ces_scope")
    if scope is None:
        row = TokenStore(_storage()).by_token(bearer_token())
        if row is None:
            raise ApiError(401, "unauthorized", "Unknown or revoked admin token.")
        scope = Scope.from_row(row)
        authorize(scope, request.method, request.view_args)
        g.ces_scope = scope
    return scope


def current_admin() -> dict[str, Any]:
    """The admin token (id, name, site_id, read_only); 401 for a missing, unknown or revoked one,
    403 or 404 for what its scope does not reach (see `authorize`)."""
    scope = current_scope()
    return {"id": scope.token_id, "name": scope.name, "site_id": scope.site_id, "read_only": scope.read_only}


def site_or_admin() -> dict[str, Any] | None:
    """For read endpoints open to both: the calling site, or None for an admin token (which then
    reaches the sites of its scope)."""
    token = bearer_token()
    site = SiteStore(_storage()).by_secret(token, current_app.extensions["ces"].now())
    if site is not None:
        return site
    if TokenStore(_storage()).by_token(token) is not None:
        current_scope()
        return None
    raise ApiError(401, "unauthorized", "Unknown secret key or admin token.")
