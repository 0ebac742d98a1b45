"""Admin endpoints of themes: a site's themes (list, change, merge, reset), a survey's themes
report, the customers with a high-effort answer in a theme (list, CSV, mark contacted), and the
theme.grown check run now (docs/insights.md)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from marshmallow import Schema, fields, validate

from .. import audit, theme_alerts, theme_editing
from .. import themes as service
from ..core.report_filters import FilterError, ReportQuery, parse
from ..core.themes import KEY_RE, MAX_LABEL, MAX_TERMS
from ..core.time_zones import site_time_zone
from ..offload import off_loop
from .auth import current_admin
from .body import load
from .errors import ApiError, not_found

bp = Blueprint("themes", __name__, url_prefix="/api/v1")

REPORT_PARAMS = ("interval", "high_effort_max")
CUSTOMER_PARAMS = ("theme", "high_effort_max", "followed_up", "page", "page_size")
MAX_USER_IDS = 1000


class ThemeBodySchema(Schema):
    label = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=MAX_LABEL))
    terms = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=None, allow_none=True,
                        validate=validate.Length(max=MAX_TERMS))
    enabled = fields.Boolean(load_default=None, allow_none=True, truthy={True}, falsy={False})


class MergeBodySchema(Schema):
    into = fields.String(required=True, validate=validate.Length(min=1, max=40))


class ContactedBodySchema(Schema):
    contacted = fields.Boolean(load_default=True, truthy={True}, falsy={False})
    user_ids = fields.List(fields.String(validate=validate.Length(min=1, max=255)), load_default=None,
                           allow_none=True, validate=validate.Length(min=1, max=MAX_USER_IDS))


def _services():  # noqa: ANN202
    return current_app.extensions["ces"]


def _site(site_id: int) -> dict[str, Any]:
    site = _services().storage.get_site(site_id)
    if site is None:
        raise not_found("site", site_id)
    return site


def _survey(survey_id: int) -> dict[str, Any]:
    survey = _services().storage.get_survey(survey_id)
    if survey is None:
        raise not_found("survey", survey_id)
    return survey


def _themes_out(site_id: int) -> dict[str, Any]:
    return theme_editing.site_themes_view(_services().storage, site_id)


def _refused(err: theme_editing.ThemeEditError) -> ApiError:
    return ApiError(err.status, err.code, err.message, {err.field: [err.detail]})


def _key(key: str) -> str:
    """The key checked before the body is read (a bad key is the error, whatever the body)."""
    try:
        return theme_editing.check_key(key)
    except theme_editing.ThemeEditError as err:
        raise _refused(err) from None


def _edit(site_id: int, edit: Any, *args: Any) -> Any:
    """Run a theme_editing change as the token's admin; its refusal as the API's error."""
    admin = current_admin()
    _site(site_id)
    try:
        edit(_services().storage, audit.token_actor(admin), site_id, *args, _services().now())
    except theme_editing.ThemeEditError as err:
        raise _refused(err) from None
    return jsonify(_themes_out(site_id))


@bp.get("/sites/<int:site_id>/themes")
def list_themes(site_id: int):
    current_admin()
    _site(site_id)
    return jsonify(_themes_out(site_id))


@bp.put("/sites/<int:site_id>/themes/<key>")
def put_theme(site_id: int, key: str):
    """Rename, extend or turn off a starter theme; create or replace one of the site's own."""
    current_admin()
    _site(site_id)
    key = _key(key)
    return _edit(site_id, theme_editing.put_theme, key, load(ThemeBodySchema()))


@bp.post("/sites/<int:site_id>/themes/<key>/merge")
def merge_theme(site_id: int, key: str):
    """Merge theme `key` into `into`: its comments count for `into` from the next report on."""
    current_admin()
    _site(site_id)
    key = _key(key)
    return _edit(site_id, theme_editing.merge_theme, key, load(MergeBodySchema())["into"])


@bp.post("/sites/<int:site_id>/themes/<key>/unmerge")
def unmerge_theme(site_id: int, key: str):
    """Undo a merge: theme `key` is its own theme again, with what else the site set for it."""
    return _edit(site_id, theme_editing.unmerge_theme, key)


@bp.delete("/sites/<int:site_id>/themes/<key>")
def delete_theme(site_id: int, key: str):
    """A theme of the site's own is deleted; a starter theme goes back to how it ships (unmerged,
    its own label and terms, on)."""
    return _edit(site_id, theme_editing.reset_theme, key)


# -- a survey's themes and its customers ------------------------------------------------------------

def _query(survey: dict[str, Any], allowed: tuple[str, ...], defaults: dict[str, str] | None = None) -> ReportQuery:
    args = list(request.args.items(multi=True))
    given = {k for k, _ in args}
    args += [(k, v) for k, v in (defaults or {}).items() if k not in given]
    try:
        q = parse(args, allowed, site_time_zone(_services().storage.get_site(survey["site_id"])))
        service.high_effort_max(survey["metric"], q.high_effort_max)  # checked before any work
    except FilterError as err:
        raise ApiError(400, "validation_error", f"Invalid parameter {err.field}: {err.message}",
                       {err.field: [err.message]}) from None
    theme = q.extras.get("theme")
    if theme is not None and not KEY_RE.match(theme):
        raise ApiError(400, "validation_error", "Invalid parameter theme: not a theme key.",
                       {"theme": ["1 to 40 lower-case letters, digits and '-'."]})
    return q


def _theme_known(survey: dict[str, Any], theme: str | None) -> None:
    if theme is None or theme.startswith("found-"):
        return
    themes, _v = service.site_themes(_services().storage, survey["site_id"])
    if theme not in {t.key for t in themes}:
        raise ApiError(400, "validation_error", f"Invalid parameter theme: no theme {theme!r} on this site.",
                       {"theme": [f"No theme {theme!r} on this site (see GET /api/v1/sites/<id>/themes)."]})


@bp.get("/surveys/<int:survey_id>/themes")
def survey_themes(survey_id: int):
    current_admin()
    survey = _survey(survey_id)
    q = _query(survey, REPORT_PARAMS)
    return jsonify(off_loop(service.theme_report, _services().storage, survey, q))


@bp.get("/surveys/<int:survey_id>/themes/comments")
def survey_themed_comments(survey_id: int):
    """The comments with their themes (a theme's comments with `theme=`), newest first."""
    current_admin()
    survey = _survey(survey_id)
    q = _query(survey, ("theme", "page", "page_size"))
    theme = q.extras.get("theme")
    _theme_known(survey, theme)
    return jsonify(off_loop(service.themed_comments, _services().storage, survey, q, theme))


@bp.get("/surveys/<int:survey_id>/customers")
def survey_customers(survey_id: int):
    """Customers with a high-effort answer: in a theme (`theme=`), at a touchpoint (`trigger=`), for an
    event property (`properties.transfers[gte]=2`), or any combination."""
    current_admin()
    survey = _survey(survey_id)
    q = _query(survey, CUSTOMER_PARAMS, {"followed_up": "any"})
    theme = q.extras.get("theme")
    _theme_known(survey, theme)
    return jsonify(off_loop(service.customers, _services().storage, survey, q, theme))


@bp.get("/surveys/<int:survey_id>/customers/export")
def export_customers(survey_id: int):
    current_admin()
    survey = _survey(survey_id)
    q = _query(survey, CUSTOMER_PARAMS[:3], {"followed_up": "any"})
    theme = q.extras.get("theme")
    _theme_known(survey, theme)
    body = "".join(off_loop(lambda: list(service.customers_csv(_services().storage, survey, q, theme))))
    name = f"survey-{survey_id}-customers" + (f"-{theme}" if theme else "") + ".csv"
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@bp.post("/surveys/<int:survey_id>/customers/contacted")
def contacted(survey_id: int):
    """Mark the list's customers (or the `user_ids` given) as contacted: their high-effort answers in
    it are followed up, as in the at-risk list; `{"contacted": false}` undoes it."""
    admin = current_admin()
    survey = _survey(survey_id)
    q = _query(survey, CUSTOMER_PARAMS[:2])
    theme = q.extras.get("theme")
    _theme_known(survey, theme)
    body = load(ContactedBodySchema()) if request.get_data() else ContactedBodySchema().load({})
    services = _services()
    out = off_loop(service.mark_contacted, services.storage, survey, q, theme, body["user_ids"],
                   body["contacted"], services.now())
    audit.record(services.storage, audit.token_actor(admin), "customers.contacted", f"survey:{survey_id}",
                 {"theme": theme, "contacted": body["contacted"], "customers": out["customers"],
                  "filters": q.describe()})
    return jsonify(out)


@bp.post("/sites/<int:site_id>/themes/check-growth")
def check_growth(site_id: int):
    """Run the theme.grown check now for the site's surveys (it also runs in the background)."""
    current_admin()
    _site(site_id)
    services = _services()
    sent = off_loop(theme_alerts.check, services, services.now(), site_id,
                    int(current_app.config["THEME_GROWTH_DAYS"]))
    return jsonify({"site_id": site_id, "alerts": sent})

