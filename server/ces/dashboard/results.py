"""A survey's results page: score, trend, distribution, funnel, touchpoints, drivers, a
comparison, comments, at-risk customers and exports, for the filters in the URL.

Every number comes from the services the admin API uses (`reports.build_report`,
`compare_segments`, `comments`, `at_risk`, `export_lines`, `follow_up`,
`report_options.filter_options`): the page's query string *is* the report API's, plus a few
keys of the page's own lists (`q`, `score`, `cpage`, `followed_up`, `rpage`) and the comparison's
`a.`/`b.` filters, so a URL shared is the view, and the same filters can be asked of the API.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, \
    stream_with_context, url_for

from .. import report_options, reports
from ..core.report_filters import FilterError, ReportQuery, parse, side_args
from ..core.time_zones import site_time_zone, zone
from ..offload import off_loop
from . import results_view as view
from .access import current_account, refuse, safe_next, site_page

SHARED = ("from", "to", "trigger", "variant", "locale", "tz")
REPORT = ("interval", "driver", "buckets")
LISTS = ("q", "score", "cpage", "followed_up", "rpage")
COMMENTS_PAGE = 20
AT_RISK_PAGE = 10


class BadFilter(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def _services() -> Any:
    return current_app.extensions["ces"]


def _survey(site: dict[str, Any], survey_id: int) -> dict[str, Any]:
    survey = _services().storage.get_survey(survey_id)
    if survey is None or survey["site_id"] != site["id"]:
        abort(404)
    return survey


# -- the URL ----------------------------------------------------------------------------------

def canonical_args(args: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The page's query in the API's own words: empty fields dropped, the form's property rows
    (`pkey`/`pop`/`pval`, also `a.pkey`…) written as `properties.<key>[<op>]=<value>`."""
    rows: dict[str, dict[str, list[str]]] = {}
    out: list[tuple[str, str]] = []
    for name, raw in args:
        prefix, _, base = name.rpartition(".") if name.split(".")[-1] in ("pkey", "pop", "pval") else ("", "", name)
        if base in ("pkey", "pop", "pval"):
            rows.setdefault(prefix, {}).setdefault(base, []).append(raw)
            continue
        if raw.strip() == "" or name == "csrf_token":
            continue
        out.append((name, raw))
    for prefix, row in rows.items():
        keys, ops, vals = row.get("pkey", []), row.get("pop", []), row.get("pval", [])
        for i, key in enumerate(keys):
            op = ops[i] if i < len(ops) else "eq"
            value = vals[i] if i < len(vals) else ""
            if not key.strip() or (value == "" and op != "exists"):
                continue
            name = f"properties.{key.strip()}" + ("" if op in ("", "eq") else f"[{op}]")
            out.append((f"{prefix}.{name}" if prefix else name, value if op != "exists" else (value or "true")))
    return out


def _needs_rewrite(args: list[tuple[str, str]]) -> bool:
    return any(n.split(".")[-1] in ("pkey", "pop", "pval") or v.strip() == "" or n == "csrf_token" for n, v in args)


def page_url(site_id: int, survey_id: int, args: list[tuple[str, str]]) -> str:
    base = url_for("dashboard.survey_results", site_id=site_id, survey_id=survey_id)
    return base + ("?" + urlencode(args) if args else "")


# -- the queries ------------------------------------------------------------------------------

def _query(args: list[tuple[str, str]], allowed: tuple[str, ...], tz: str, rename: dict[str, str] | None = None
           ) -> ReportQuery:
    rename = rename or {}
    picked = []
    for name, raw in args:
        if name.startswith(("a.", "b.")):
            continue
        if name in rename:
            picked.append((rename[name], raw))
        elif name in SHARED or name in allowed or name.startswith("properties."):
            picked.append((name, raw))
    try:
        return parse(picked, allowed, tz)
    except FilterError as err:
        back = {v: k for k, v in rename.items()}
        raise BadFilter(back.get(err.field, err.field), err.message) from None


def _check_names(args: list[tuple[str, str]]) -> None:
    """A key the page does not know is refused, as the API does: a typo never silently widens a view."""
    known = set(SHARED) | set(REPORT) | set(LISTS)
    for name, _ in args:
        base = name[2:] if name.startswith(("a.", "b.")) else name
        if base.startswith("properties."):
            continue
        if name.startswith(("a.", "b.")) and base in SHARED:
            continue
        if name not in known:
            raise BadFilter(name, "unknown parameter")


def default_compare(q: ReportQuery, tz: str, now: float) -> list[tuple[str, str]]:
    """Last 28 days (to the filter's end, else today) against the 28 days before."""
    end = datetime.fromtimestamp((q.end - 1) if q.end else now, zone(tz)).date()
    b_from = end - timedelta(days=27)
    a_to = b_from - timedelta(days=1)
    a_from = a_to - timedelta(days=27)
    return [("a.from", a_from.isoformat()), ("a.to", a_to.isoformat()),
            ("b.from", b_from.isoformat()), ("b.to", end.isoformat())]


def _compare(storage: Any, survey: dict[str, Any], args: list[tuple[str, str]], tz: str, now: float
             ) -> tuple[dict[str, Any], list[tuple[str, str]], bool]:
    sides = [(n, v) for n, v in args if n.startswith(("a.", "b."))]
    chosen = bool(sides)
    shared = [(n, v) for n, v in args if n in SHARED or n.startswith("properties.")]
    if not chosen:
        sides = default_compare(_query(args, REPORT, tz), tz, now)
    both = shared + sides
    queries = []
    for side in ("a", "b"):
        try:
            queries.append(parse(side_args(both, side), (), tz))
        except FilterError as err:
            field = f"{side}.{err.field}" if any(n == f"{side}.{err.field}" for n, _ in both) else err.field
            raise BadFilter(field, err.message) from None
    result = off_loop(reports.compare_segments, storage, survey, queries[0], queries[1], now)
    return result, sides, chosen


def build_page(site: dict[str, Any], survey: dict[str, Any], args: list[tuple[str, str]]) -> dict[str, Any]:
    """Everything the page shows, through the report services; BadFilter for a bad URL value."""
    services = _services()
    storage, now = services.storage, services.now()
    tz = site_time_zone(storage.get_site(survey["site_id"]))
    _check_names(args)
    options = off_loop(report_options.filter_options, storage, survey)
    q = _query(args, REPORT, tz)
    driver_given = q.driver is not None
    if q.driver is None and options["properties"]:
        q = parse([*((n, v) for n, v in args if n in SHARED or n in REPORT or n.startswith("properties.")),
                   ("driver", options["properties"][0])], REPORT, tz)
    report = off_loop(reports.build_report, storage, survey, q, now)
    cq = _query(args, ("q", "score", "page", "page_size"), tz, {"cpage": "page"})
    cq = _with(cq, page_size=COMMENTS_PAGE)
    try:
        comments = off_loop(reports.comments, storage, survey, cq)
    except FilterError as err:
        raise BadFilter(err.field, err.message) from None
    rq = _query(args, ("followed_up", "page", "page_size"), tz, {"rpage": "page"})
    at_risk = off_loop(reports.at_risk, storage, survey, _with(rq, page_size=AT_RISK_PAGE))
    compare, compare_args, compare_chosen = _compare(storage, survey, args, tz, now)
    return {"options": options, "report": report, "query": q, "driver_given": driver_given, "tz": tz,
            "comments": comments, "at_risk": at_risk, "compare": compare, "compare_args": compare_args,
            "compare_chosen": compare_chosen}


def _with(q: ReportQuery, **changes: Any) -> ReportQuery:
    from dataclasses import replace
    return replace(q, **changes)


# -- views ------------------------------------------------------------------------------------

@site_page
def survey_results(site: dict[str, Any], survey_id: int) -> Any:
    survey = _survey(site, survey_id)
    args = list(request.args.items(multi=True))
    if _needs_rewrite(args):  # a form sent without JavaScript: to the shareable URL
        return redirect(page_url(site["id"], survey_id, canonical_args(args)))
    ctx: dict[str, Any] = {"site": site, "survey": survey, "active": "surveys", "args": args, "error": None}
    status = 200
    try:
        ctx.update(build_page(site, survey, args))
    except BadFilter as err:
        ctx["error"] = err
        ctx["options"] = off_loop(report_options.filter_options, _services().storage, survey)
        ctx["tz"] = site_time_zone(_services().storage.get_site(site["id"]))
        status = 400
    ctx["v"] = view.Helpers(site, survey, args, ctx)
    return render_template("dashboard/results.html", **ctx), status


@site_page
def survey_export(site: dict[str, Any], survey_id: int, fmt: str) -> Any:
    survey = _survey(site, survey_id)
    if fmt not in ("csv", "jsonl"):
        abort(404)
    storage = _services().storage
    tz = site_time_zone(storage.get_site(survey["site_id"]))
    args = [(n, v) for n, v in request.args.items(multi=True)
            if (n in SHARED or n.startswith("properties.")) and v.strip() != ""]
    try:
        q = parse(args, (), tz)
    except FilterError as err:
        return render_template("dashboard/error.html", status=400,
                               message=f"The filter '{err.field}' is not valid: {err.message}."), 400
    mimetype = "text/csv" if fmt == "csv" else "application/x-ndjson"
    filename = f"survey-{survey_id}-answers.{fmt}"
    return Response(stream_with_context(reports.export_lines(storage, survey, q, fmt)), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@site_page
def follow_up(site: dict[str, Any], answer_id: int) -> Any:
    """Mark an at-risk customer's answer followed up (form post or fetch), or undo it."""
    account = current_account()
    body = request.get_json(silent=True) if request.is_json else None
    raw = body.get("followed_up", True) if isinstance(body, dict) else request.form.get("followed_up", "true")
    flag = {True: True, False: False, "true": True, "false": False}.get(raw)  # type: ignore[call-overload]
    if flag is None:
        return refuse(400, "validation_error", "followed_up must be true or false.")
    done = reports.follow_up(_services().storage, answer_id, flag, account.actor,  # type: ignore[union-attr]
                             _services().now())
    if done is None:
        abort(404)
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return jsonify(done)
    back = safe_next(request.form.get("next")) or url_for("dashboard.overview", site_id=site["id"])
    return redirect(back + "#at-risk", code=303)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/sites/<int:site_id>/surveys/<int:survey_id>", "survey_results", survey_results)
    bp.add_url_rule("/sites/<int:site_id>/surveys/<int:survey_id>/export.<fmt>", "survey_results_export",
                    survey_export)
    bp.add_url_rule("/sites/<int:site_id>/answers/<int:answer_id>/follow-up", "answer_follow_up", follow_up,
                    methods=["POST"])
