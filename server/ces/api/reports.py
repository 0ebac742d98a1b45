"""Admin read endpoints of a survey: report, comments, at-risk customers, export; follow-ups."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context

from .. import audit, report_options, reports
from ..core.report_filters import FilterError, ReportQuery, parse, side_args
from ..offload import off_loop
from ..core.time_zones import site_time_zone
from .auth import current_admin
from .body import json_object
from .errors import ApiError, not_found

bp = Blueprint("reports", __name__, url_prefix="/api/v1")

REPORT_PARAMS = ("interval", "driver", "buckets")
LIST_PARAMS = ("q", "score", "page", "page_size")
AT_RISK_PARAMS = ("page", "page_size", "high_effort_max", "followed_up")


def _survey(survey_id: int) -> dict[str, Any]:
    survey = current_app.extensions["ces"].storage.get_survey(survey_id)
    if survey is None:
        raise not_found("survey", survey_id)
    return survey


def _site_zone(survey: dict[str, Any]) -> str:
    """The time zone of the survey's site (UTC by default)."""
    site = current_app.extensions["ces"].storage.get_site(survey["site_id"])
    return site_time_zone(site)


def _query(allowed: tuple[str, ...], survey: dict[str, Any]) -> ReportQuery:
    try:
        return parse(request.args.items(multi=True), allowed, _site_zone(survey))
    except FilterError as err:
        raise ApiError(400, "validation_error", f"Invalid parameter {err.field}: {err.message}",
                       {err.field: [err.message]}) from None


def _services():  # noqa: ANN202
    return current_app.extensions["ces"]


@bp.get("/surveys/<int:survey_id>/report")
def survey_report(survey_id: int):
    current_admin()
    survey = _survey(survey_id)
    q = _query(REPORT_PARAMS, survey)
    services = _services()
    return jsonify(off_loop(reports.build_report, services.storage, survey, q, services.now()))


def _side_args(side: str) -> list[tuple[str, str]]:
    """Shared filters plus the side's own (`a.from=…`), the side's winning; other prefixes refused."""
    return side_args(request.args.items(multi=True), side)


def _side_query(side: str, survey: dict[str, Any]) -> ReportQuery:
    try:
        return parse(_side_args(side), (), _site_zone(survey))
    except FilterError as err:
        # Name the parameter as the caller wrote it: with its side's prefix when it had one.
        prefixed = f"{side}.{err.field}" if f"{side}.{err.field}" in request.args else err.field
        raise ApiError(400, "validation_error", f"Invalid parameter {prefixed}: {err.message}",
                       {prefixed: [err.message]}) from None


@bp.get("/surveys/<int:survey_id>/compare")
def survey_compare(survey_id: int):
    """Two periods or segments: `a.from=…&a.to=…&b.from=…&b.to=…`, any report filter on either side
    (`b.properties.channel=chat`) or on both (unprefixed)."""
    current_admin()
    survey = _survey(survey_id)
    if not any(k.startswith(("a.", "b.")) for k in request.args):
        raise ApiError(400, "validation_error", "Give at least one 'a.' or 'b.' filter to compare.",
                       {"a": ["No filter for either side."]})
    qa, qb = _side_query("a", survey), _side_query("b", survey)
    services = _services()
    return jsonify(off_loop(reports.compare_segments, services.storage, survey, qa, qb, services.now()))


@bp.get("/surveys/<int:survey_id>/comments")
def survey_comments(survey_id: int):
    current_admin()
    survey = _survey(survey_id)
    q = _query(LIST_PARAMS, survey)
    try:
        return jsonify(off_loop(reports.comments, _services().storage, survey, q))
    except FilterError as err:  # a score off the survey's scale
        raise ApiError(400, "validation_error", f"Invalid parameter {err.field}: {err.message}",
                       {err.field: [err.message]}) from None


@bp.get("/surveys/<int:survey_id>/filters")
def survey_filters(survey_id: int):
    """What the survey's report can be filtered by: triggers, locales, variants, event properties."""
    current_admin()
    survey = _survey(survey_id)
    for name in request.args:  # it takes none: a typo is said, not ignored
        raise ApiError(400, "validation_error", f"Invalid parameter {name}: unknown parameter",
                       {name: ["unknown parameter"]})
    return jsonify(off_loop(report_options.filter_options, _services().storage, survey))


@bp.get("/surveys/<int:survey_id>/at-risk")
def survey_at_risk(survey_id: int):
    current_admin()
    survey = _survey(survey_id)
    q = _query(AT_RISK_PARAMS, survey)
    try:
        return jsonify(off_loop(reports.at_risk, _services().storage, survey, q))
    except FilterError as err:
        raise ApiError(400, "validation_error", f"Invalid parameter {err.field}: {err.message}",
                       {err.field: [err.message]}) from None


@bp.post("/answers/<int:answer_id>/follow-up")
def follow_up(answer_id: int):
    """Mark an answer as followed up (`{"followed_up": true}`, the default) or undo it (false)."""
    admin = current_admin()
    body = json_object() if request.get_data() else {}
    flag = body.get("followed_up", True)
    if not isinstance(flag, bool):
        raise ApiError(400, "validation_error", "followed_up must be true or false.",
                       {"followed_up": ["Not a valid boolean."]})
    services = _services()
    done = reports.follow_up(services.storage, answer_id, flag, audit.token_actor(admin), services.now())
    if done is None:
        raise not_found("answer", answer_id)
    return jsonify(done)


@bp.get("/surveys/<int:survey_id>/export")
def survey_export(survey_id: int):
    current_admin()
    survey = _survey(survey_id)
    q = _query(("format",), survey)
    storage = _services().storage
    mimetype = "text/csv" if q.format == "csv" else "application/x-ndjson"
    filename = f"survey-{survey_id}-answers.{q.format}"
    return Response(stream_with_context(reports.export_lines(storage, survey, q, q.format)),
                    mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})
