"""Admin endpoints of the insights (docs/insights.md): what drives effort, fix first, scores that
diverge, effort against loyalty; a site's alert and digest settings, and running them now."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from .. import alerts, audit, divergence_report, driver_report
from ..core import score_alerts
from ..core.report_filters import FilterError, ReportQuery, parse
from ..core.time_zones import site_time_zone
from ..offload import off_loop
from ..storage.answer_props import CatchingUp
from ..storage.insights import InsightStore
from .auth import current_admin
from .body import json_object
from .errors import ApiError, not_found

bp = Blueprint("insights", __name__, url_prefix="/api/v1")

RANK_PARAMS = ("min_n", "fdr")
FIX_PARAMS = ("min_n", "fdr", "limit")
DIVERGENCE_PARAMS = ("with", "threshold")
LOYALTY_PARAMS = ("with", "event", "within_days")
MAX_LIMIT = 500


def _services():  # noqa: ANN202
    return current_app.extensions["ces"]


def _bad(err: FilterError) -> ApiError:
    return ApiError(400, "validation_error", f"Invalid parameter {err.field}: {err.message}", {err.field: [err.message]})


def _survey(survey_id: int) -> dict[str, Any]:
    survey = _services().storage.get_survey(survey_id)
    if survey is None:
        raise not_found("survey", survey_id)
    return survey


def _query(survey: dict[str, Any], allowed: tuple[str, ...], filters: bool = True) -> ReportQuery:
    site = _services().storage.get_site(survey["site_id"])
    try:
        q = parse(request.args.items(multi=True), allowed, site_time_zone(site))
    except FilterError as err:
        raise _bad(err) from None
    if not filters:  # two surveys: only the time range applies to both
        for name, given in (("trigger", q.triggers), ("locale", q.locale), ("variant", q.variant),
                            ("properties", q.properties)):
            if given:
                raise _bad(FilterError(name, "not available here: only from, to and tz apply to both surveys"))
    return q


def _call(fn: Any, *args: Any) -> Any:
    try:
        return off_loop(fn, *args)
    except FilterError as err:
        raise _bad(err) from None
    except CatchingUp as err:  # a large installation's first copy (docs/reports.md, "Fast filters")
        raise ApiError(503, "catching_up", str(err), {"answers_behind": [str(err.behind)]}) from None


@bp.get("/surveys/<int:survey_id>/drivers")
def survey_drivers(survey_id: int):
    current_admin()
    survey = _survey(survey_id)
    q = _query(survey, RANK_PARAMS)
    return jsonify(_call(driver_report.ranking, _services().storage, survey, q, _services().now()))


def _limit(q: ReportQuery) -> int:
    raw = q.extras.get("limit", "50")
    try:
        value = int(raw)
    except ValueError:
        raise _bad(FilterError("limit", "expected an integer")) from None
    if not 1 <= value <= MAX_LIMIT:
        raise _bad(FilterError("limit", f"must be between 1 and {MAX_LIMIT}"))
    return value


@bp.get("/surveys/<int:survey_id>/fix-first")
def survey_fix_first(survey_id: int):
    current_admin()
    survey = _survey(survey_id)
    q = _query(survey, FIX_PARAMS)
    limit = _limit(q)
    return jsonify(_call(driver_report.fix_first_items, _services().storage, survey, q, _services().now(),
                         driver_report.theme_source(), limit))


@bp.get("/surveys/<int:survey_id>/divergence")
def survey_divergence(survey_id: int):
    current_admin()
    survey = _survey(survey_id)
    q = _query(survey, DIVERGENCE_PARAMS, filters=False)
    return jsonify(_call(divergence_report.divergence_report, _services().storage, survey, q))


@bp.get("/surveys/<int:survey_id>/loyalty")
def survey_loyalty(survey_id: int):
    current_admin()
    survey = _survey(survey_id)
    q = _query(survey, LOYALTY_PARAMS, filters=False)
    return jsonify(_call(divergence_report.loyalty_report, _services().storage, survey, q))


# -- alerts ---------------------------------------------------------------------------------------

def _site(site_id: int) -> dict[str, Any]:
    site = _services().storage.get_site(site_id)
    if site is None:
        raise not_found("site", site_id)
    return site


def _settings_out(site: dict[str, Any]) -> dict[str, Any]:
    notices = InsightStore(_services().storage).notices(site["id"], 20)
    return {"site_id": site["id"], **alerts.site_settings(site.get("settings")).as_dict(),
            "recent": [{k: n[k] for k in ("kind", "survey_id", "period_end", "sent_at")} for n in notices]}


@bp.get("/sites/<int:site_id>/alerts")
def get_alerts(site_id: int):
    current_admin()
    return jsonify(_settings_out(_site(site_id)))


@bp.put("/sites/<int:site_id>/alerts")
def put_alerts(site_id: int):
    admin = current_admin()
    site = _site(site_id)
    body = json_object()
    try:
        cfg = score_alerts.settings_from_dict(body)
    except score_alerts.SettingsError as err:
        raise ApiError(400, "validation_error", f"Invalid {err.path}: {err.message}", {err.path: [err.message]}) from None
    settings = dict(site.get("settings") or {})
    settings["alerts"] = cfg.as_dict()
    storage = _services().storage
    storage.set_site_settings(site_id, settings)
    audit.record(storage, audit.token_actor(admin), "site.alerts.update", f"site:{site_id}", cfg.as_dict())
    return jsonify(_settings_out(_site(site_id)))


@bp.post("/sites/<int:site_id>/alerts/run")
def run_alerts(site_id: int):
    """Check for a score drop and send the digest when due, now (the periodic job does it every
    ALERTS_INTERVAL seconds); what was sent."""
    current_admin()
    _site(site_id)
    services = _services()
    sent = off_loop(alerts.run, services, services.now(), site_id)
    return jsonify({"site_id": site_id, "sent": sent})
