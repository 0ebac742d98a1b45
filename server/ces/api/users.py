"""One person's data under their control: erase, export, opt out (docs/privacy.md).

    DELETE /api/v1/users/<id>?site=N          erase everything stored about them (admin token)
    GET    /api/v1/users/<id>/export?site=N   everything stored about them, one JSON document (admin)
    POST   /api/v1/users/<id>/opt-out         never ask them again on the site (secret key, or admin + site)
    DELETE /api/v1/users/<id>/opt-out         they may be asked again
    GET    /api/v1/erasures?site=N            the erasure records (admin)

`site` may be left out when there is one site. An unknown user is a 404 and changes nothing.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from marshmallow import Schema, ValidationError, fields, validate

from .. import audit
from ..services import Services
from ..storage import erasure
from .auth import bearer_token, current_admin, current_scope
from .errors import ApiError
from ..user_export import export_document, iso

bp = Blueprint("users", __name__, url_prefix="/api/v1")

MAX_USER_ID = 256


class SiteQuerySchema(Schema):
    site = fields.Integer(load_default=None, validate=validate.Range(min=1))


class PageQuerySchema(SiteQuerySchema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


def _services() -> Services:
    return current_app.extensions["ces"]


def _query(schema: Schema) -> dict[str, Any]:
    try:
        return schema.load(request.args)
    except ValidationError as err:
        raise ApiError(400, "validation_error", "Invalid query string.", err.normalized_messages()) from err


def _user(user_id: str) -> str:
    if not 1 <= len(user_id) <= MAX_USER_ID:
        raise ApiError(400, "validation_error", "Invalid user id.",
                       {"user_id": [f"Length must be between 1 and {MAX_USER_ID}."]})
    return user_id


def _admin_site(given: int | None) -> dict[str, Any]:
    """The site an admin call is about: `?site=`, or the token's own site, or the only one; 400
    naming `site` otherwise. A site the token does not reach is refused as an unknown one."""
    storage = _services().storage
    scope = current_scope()
    if scope.site_id is not None:
        if given not in (None, scope.site_id):
            raise ApiError(400, "validation_error", "Invalid query string.", {"site": [f"Unknown site {given}."]})
        given = scope.site_id
    if given is not None:
        site = storage.get_site(given)
        if site is None:
            raise ApiError(400, "validation_error", "Invalid query string.", {"site": [f"Unknown site {given}."]})
        return site
    sites = storage.list_sites()
    if len(sites) != 1:
        raise ApiError(400, "validation_error", "Invalid query string.",
                       {"site": ["Required when there are several sites."]})
    return storage.get_site(sites[0]["id"])  # type: ignore[return-value]


def _caller_and_site() -> tuple[audit.Actor, dict[str, Any]]:
    """A site's backend (its secret key names the site) or an admin token (with `?site=`)."""
    token = bearer_token()
    storage = _services().storage
    site = storage.site_by_secret(token)
    if site is not None:
        if request.args.get("site") not in (None, str(site["id"])):
            raise ApiError(400, "validation_error", "Invalid query string.",
                           {"site": ["A secret key acts on its own site only."]})
        return audit.site_actor(site), site
    if storage.admin_by_token(token) is None:
        raise ApiError(401, "unauthorized", "Unknown secret key or admin token.")
    admin = current_admin()  # the token's scope: read-only tokens change nothing
    return audit.token_actor(admin), _admin_site(_query(SiteQuerySchema())["site"])


def _not_found(user_id: str, site: dict[str, Any]) -> ApiError:
    return ApiError(404, "not_found", f"Nothing is stored about user {user_id!r} on site {site['id']}.",
                    {"user_id": ["Unknown user on this site."]})


def _close_on_screens(services: Services, site_id: int, user_id: str, prompt_ids: list[str]) -> None:
    """Take prompts that no longer exist (or may no longer be answered) off the user's open tabs."""
    if prompt_ids and services.courier is not None:
        services.courier.prompts_closed(site_id, user_id, prompt_ids)


@bp.delete("/users/<path:user_id>")
def erase_user(user_id: str):
    admin = current_admin()
    site = _admin_site(_query(SiteQuerySchema())["site"])
    user_id = _user(user_id)
    services = _services()
    now = services.now()
    actor = audit.token_actor(admin)
    digest = erasure.user_sha256(user_id)
    try:
        done = erasure.erase(services.storage, site["id"], user_id, f"token:{admin['id']}:{admin['name']}", now,
                             record=lambda db: audit.record(db, actor, "user.erase", f"user_sha256:{digest}",
                                                            {"site_id": site["id"]}, now))
    except erasure.NotFound:
        raise _not_found(user_id, site) from None
    _close_on_screens(services, site["id"], user_id, done["open_prompts"])
    return jsonify(user_id=user_id, site_id=site["id"], erased_at=iso(now), user_sha256=digest,
                   deleted=done["deleted"])


@bp.get("/users/<path:user_id>/export")
def export_user(user_id: str):
    current_admin()
    site = _admin_site(_query(SiteQuerySchema())["site"])
    user_id = _user(user_id)
    services = _services()
    try:
        doc = export_document(services.storage, site, user_id, services.now())
    except erasure.NotFound:
        raise _not_found(user_id, site) from None
    response = jsonify(doc)
    response.headers["Content-Disposition"] = f'attachment; filename="ces-user-export-site{site["id"]}.json"'
    return response


@bp.post("/users/<path:user_id>/opt-out")
def opt_out(user_id: str):
    actor, site = _caller_and_site()
    user_id = _user(user_id)
    services = _services()
    now = services.now()
    source = "api" if actor["kind"] == "site" else "admin"
    created, closed = erasure.opt_out(
        services.storage, site["id"], user_id, source, now,
        record=lambda db: audit.record(db, actor, "user.opt_out", f"user_sha256:{erasure.user_sha256(user_id)}",
                                       {"site_id": site["id"]}, now))
    _close_on_screens(services, site["id"], user_id, closed)
    at = erasure.UserData(services.storage.db.conn, site["id"], user_id).opt_out()
    return jsonify(user_id=user_id, site_id=site["id"], opted_out=True, opted_out_at=iso(at[0] if at else now),
                   already=not created, prompts_closed=len(closed)), 200


@bp.delete("/users/<path:user_id>/opt-out")
def undo_opt_out(user_id: str):
    actor, site = _caller_and_site()
    user_id = _user(user_id)
    services = _services()
    now = services.now()
    removed = erasure.opt_in(services.storage, site["id"], user_id, record=lambda db: audit.record(
        db, actor, "user.opt_in", f"user_sha256:{erasure.user_sha256(user_id)}", {"site_id": site["id"]}, now))
    if not removed:
        raise ApiError(404, "not_found", f"User {user_id!r} has not opted out on site {site['id']}.",
                       {"user_id": ["Not opted out on this site."]})
    return jsonify(user_id=user_id, site_id=site["id"], opted_out=False)


@bp.get("/erasures")
def list_erasures():
    scope = current_scope()
    q = _query(PageQuerySchema())
    rows, total = erasure.erasures(_services().storage, scope.site_filter(q["site"]), q["limit"], q["offset"])
    return jsonify(items=[{**r, "created_at": iso(r["created_at"])} for r in rows], total=total)
