"""A survey's Insights page: themes of the comments, the customers who share a problem (mark them
contacted, export them), what drives effort, what to fix first, and — when the site has a second
survey — how its scores relate to this one's and whether effort predicts loyalty (issue 15).

Every number comes from the services the admin API calls (`themes.theme_report`,
`themes.customers`, `themes.mark_contacted`, `themes.customers_csv`, `driver_report.ranking`,
`driver_report.fix_first_items`, `divergence_report.divergence_report` and `loyalty_report`),
with the same query parser, so the page's numbers are the API's for the same period. The page's
query: the period (`from`, `to`, `tz`), the themes' `interval`, the customer list's `theme`,
`touchpoint` (the API's `trigger`), `followed_up` and `cpage`, and `with` (the second survey).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for

from .. import audit, divergence_report, driver_report, report_options
from .. import themes as theme_service
from ..core.metrics import get_metric
from ..core.report_filters import FilterError, ReportQuery, parse
from ..core.themes import KEY_RE
from ..core.time_zones import site_time_zone
from ..offload import off_loop
from ..storage.answer_props import CatchingUp
from . import results_view
from .access import current_account, safe_next, site_page

PERIOD = ("from", "to", "tz")
PAGE_KEYS = (*PERIOD, "interval", "theme", "touchpoint", "followed_up", "cpage", "with")
MEASURE = "properties."  # event property filters of the customer list only (a driver value's customers)
CUSTOMERS_PAGE = 10
FIX_FIRST_LIMIT = 10
DRIVERS_SHOWN = 10


GROUP_LABELS = {  # a metric's negative · neutral · positive answers, in its own words
    "nps": ("Detractors", "Passives", "Promoters"),
    "csat": ("Unsatisfied", "Neutral", "Satisfied"),
}
EFFORT_LABELS = ("High effort", "Neutral", "Low effort")


def group_label(metric: Any, group: str) -> str:
    labels = GROUP_LABELS.get(metric.headline_name, EFFORT_LABELS)
    return labels[("negative", "neutral", "positive").index(group)]


class BadQuery(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


@dataclass
class Selection:
    """What the page's URL asks for, checked."""
    args: list[tuple[str, str]]
    tz: str
    theme: str | None
    touchpoint: str | None
    other: dict[str, Any] | None
    measure: list[tuple[str, str]]  # the customer list's event property filters, as in the URL


def _services() -> Any:
    return current_app.extensions["ces"]


def _survey(site: dict[str, Any], survey_id: int) -> dict[str, Any]:
    survey = _services().storage.get_survey(survey_id)
    if survey is None or survey["site_id"] != site["id"]:
        abort(404)
    return survey


def _other_surveys(site: dict[str, Any], survey: dict[str, Any]) -> list[dict[str, Any]]:
    rows, _ = _services().storage.list_rows("surveys", {"site_id": site["id"]}, 500, 0)
    return [r for r in rows if r["id"] != survey["id"]]


# -- the URL ----------------------------------------------------------------------------------------

def _clean(args: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(n, v) for n, v in args if v.strip() != ""]


def _one(args: list[tuple[str, str]], name: str) -> str | None:
    given = [v for n, v in args if n == name]
    if len(given) > 1:
        raise BadQuery(name, "given more than once")
    return given[0] if given else None


def _parse(args: list[tuple[str, str]], tz: str, extra: list[tuple[str, str]] = (), allowed: tuple[str, ...] = ()
           ) -> ReportQuery:
    """The period of the page plus `extra`, through the API's parser."""
    picked = [(n, v) for n, v in args if n in PERIOD] + list(extra)
    try:
        return parse(picked, allowed, tz)
    except FilterError as err:
        raise BadQuery("touchpoint" if err.field == "trigger" else err.field, err.message) from None


def select(site: dict[str, Any], survey: dict[str, Any], args: list[tuple[str, str]],
           others: list[dict[str, Any]]) -> Selection:
    """Check the page's query (BadQuery naming the field): known names, each once, valid values."""
    for name, _ in args:
        if name not in PAGE_KEYS and not name.startswith(MEASURE):
            raise BadQuery(name, "unknown parameter")
    measure = [(n, v) for n, v in args if n.startswith(MEASURE)]
    if measure:
        _parse(args, site_time_zone(_services().storage.get_site(site["id"])), measure)
    for name in PAGE_KEYS:
        _one(args, name)
    tz = site_time_zone(_services().storage.get_site(site["id"]))
    _parse(args, tz, [(n, v) for n, v in args if n == "interval"], ("interval",))
    theme = _one(args, "theme")
    if theme is not None:
        known = {t.key for t in theme_service.site_themes(_services().storage, site["id"])[0]}
        if not KEY_RE.match(theme) or (not theme.startswith("found-") and theme not in known):
            raise BadQuery("theme", "no such theme on this site")
    touchpoint = _one(args, "touchpoint")
    if touchpoint is not None:
        _parse(args, tz, [("trigger", touchpoint)])
    followed = _one(args, "followed_up")
    if followed is not None and followed not in ("any", "true", "false"):
        raise BadQuery("followed_up", "expected any, true or false")
    cpage = _one(args, "cpage")
    if cpage is not None and not (cpage.isdigit() and 1 <= int(cpage) <= 100_000):
        raise BadQuery("cpage", "expected a page number")
    raw_with = _one(args, "with")
    other = None
    if raw_with is not None:
        other = next((o for o in others if str(o["id"]) == raw_with), None)
        if other is None:
            raise BadQuery("with", "no other survey with this id on this site")
    elif others:
        other = others[0]
    return Selection(args, tz, theme, touchpoint, other, measure)


def page_url(site_id: int, survey_id: int, args: list[tuple[str, str]], **changes: str | None) -> str:
    """This page with `changes` to its query (None removes a key)."""
    kept = [(n, v) for n, v in args if n not in changes]
    kept += [(n, v) for n, v in changes.items() if v is not None]
    base = url_for("dashboard.survey_insights", site_id=site_id, survey_id=survey_id)
    return base + ("?" + urlencode(kept) if kept else "")


def measure_filters(key: str, value: dict[str, Any]) -> list[tuple[str, str]]:
    """The event property filters of one driver value (a ranking's `effect` / `most_effort`):
    a number's bucket as its range, a text or a boolean as itself."""
    name = f"{MEASURE}{key}"
    if value.get("kind") == "number":
        bucket = value.get("bucket") or {}
        out = [(f"{name}[gte]", f"{bucket['low']:g}")] if bucket.get("low") is not None else []
        return out + ([(f"{name}[lt]", f"{bucket['high']:g}")] if bucket.get("high") is not None else [])
    return [(name, str(value["value"]))]


def measure_label(measure: list[tuple[str, str]]) -> str:
    """"transfers ≥ 2 and < 3" for the customer list's heading."""
    signs = {"gte": "≥", "gt": ">", "lte": "≤", "lt": "<", "ne": "≠"}
    parts: dict[str, list[str]] = {}
    for name, value in measure:
        key, _, op = name[len(MEASURE):].partition("[")
        parts.setdefault(key, []).append(f"{signs.get(op.rstrip(']'), '=')} {value}")
    return "; ".join(f"{key} {' and '.join(conds)}" for key, conds in parts.items())


# -- the sections -----------------------------------------------------------------------------------

def _customer_query(sel: Selection, page: bool = True) -> ReportQuery:
    extra = [("followed_up", _one(sel.args, "followed_up") or "any")]
    if sel.touchpoint is not None:
        extra.append(("trigger", sel.touchpoint))
    if sel.theme is not None:
        extra.append(("theme", sel.theme))
    extra += sel.measure
    if page:
        extra += [("page", _one(sel.args, "cpage") or "1"), ("page_size", str(CUSTOMERS_PAGE))]
    return _parse(sel.args, sel.tz, extra, ("theme", "followed_up", "page", "page_size"))


def _comparison(storage: Any, survey: dict[str, Any], sel: Selection) -> dict[str, Any] | None:
    if sel.other is None:
        return None
    q = _parse(sel.args, sel.tz, [("with", str(sel.other["id"]))], ("with",))
    divergence = off_loop(divergence_report.divergence_report, storage, survey, q)
    loyalty = off_loop(divergence_report.loyalty_report, storage, survey, q)
    return {"divergence": divergence, "loyalty": loyalty, "other_metric": get_metric(sel.other["metric"])}


def build_page(site: dict[str, Any], survey: dict[str, Any], sel: Selection) -> dict[str, Any]:
    services = _services()
    storage, now = services.storage, services.now()
    interval = [(n, v) for n, v in sel.args if n == "interval"]
    try:
        themes = off_loop(theme_service.theme_report, storage, survey, _parse(sel.args, sel.tz, interval, ("interval",)))
        customers = off_loop(theme_service.customers, storage, survey, _customer_query(sel), sel.theme)
        period = _parse(sel.args, sel.tz)
        drivers = off_loop(driver_report.ranking, storage, survey, period, now)
        fix = off_loop(driver_report.fix_first_items, storage, survey, period, now, driver_report.theme_source(),
                       FIX_FIRST_LIMIT)
        comparison = _comparison(storage, survey, sel)
    except FilterError as err:
        raise BadQuery(err.field, err.message) from None
    return {"themes": themes, "customers": customers, "drivers": drivers, "fix": fix, "comparison": comparison}


# -- views ------------------------------------------------------------------------------------------

@site_page
def survey_insights(site: dict[str, Any], survey_id: int) -> Any:
    survey = _survey(site, survey_id)
    raw = list(request.args.items(multi=True))
    args = _clean(raw)
    if len(args) != len(raw):  # a form sent with empty fields: to the shareable URL
        return redirect(page_url(site["id"], survey_id, args))
    storage = _services().storage
    others = _other_surveys(site, survey)
    ctx: dict[str, Any] = {"site": site, "survey": survey, "active": "surveys", "args": args, "error": None,
                           "others": others, "metric": get_metric(survey["metric"]), "sel": None}
    status = 200
    try:
        sel = select(site, survey, args, others)
        ctx["sel"] = sel
        ctx.update(build_page(site, survey, sel))
    except BadQuery as err:
        ctx["error"] = err
        status = 400
    except CatchingUp as err:  # the background copy of a large installation's answers (answer_props_job.py)
        ctx["catching_up"] = err
        status = 503
    ctx["options"] = off_loop(report_options.filter_options, storage, survey)
    ctx["tz"] = site_time_zone(storage.get_site(site["id"]))
    ctx["value"] = lambda name: next((v for n, v in args if n == name), "")
    ctx["link"] = lambda **changes: page_url(site["id"], survey_id, args, **changes)
    ctx["export_url"] = url_for("dashboard.survey_insights_customers_export", site_id=site["id"],
                                survey_id=survey_id) + ("?" + urlencode(args) if args else "")
    ctx["group_labels"] = group_label
    measure = [(n, v) for n, v in args if n.startswith(MEASURE)]
    ctx["measure"] = measure_label(measure) if measure else None
    ctx["without_measure"] = page_url(site["id"], survey_id, args, cpage=None, **{n: None for n, _ in measure})

    def driver_customers(p: dict[str, Any]) -> str | None:
        """The page with the customer list narrowed to this property's value with the most effort."""
        value = p.get("most_effort")
        if p.get("source") != "event" or not value:
            return None
        changes: dict[str, str | None] = {n: None for n, _ in measure}
        changes.update(dict(measure_filters(p["key"], value)))
        return page_url(site["id"], survey_id, args, cpage=None, **changes) + "#customers"
    ctx["driver_customers"] = driver_customers
    ctx["no_theme"] = driver_report.NO_THEME
    ctx["v"] = results_view.Helpers(site, survey, args, ctx)
    ctx["trigger_names"] = {str(t["id"]): t.get("name") or t.get("event_name") for t in ctx["options"]["triggers"]}
    return render_template("dashboard/insights.html", **ctx), status


def _selection_or_error(site: dict[str, Any], survey: dict[str, Any], args: list[tuple[str, str]]) -> Selection | Any:
    try:
        return select(site, survey, args, _other_surveys(site, survey))
    except BadQuery as err:
        return render_template("dashboard/error.html", status=400,
                               message=f"The value of '{err.field}' is not valid: {err.message}."), 400


@site_page
def customers_export(site: dict[str, Any], survey_id: int) -> Any:
    """The whole customer list of the page's selection as CSV (the API's export)."""
    survey = _survey(site, survey_id)
    sel = _selection_or_error(site, survey, _clean(list(request.args.items(multi=True))))
    if not isinstance(sel, Selection):
        return sel
    q = _customer_query(sel, page=False)
    body = "".join(off_loop(lambda: list(theme_service.customers_csv(_services().storage, survey, q, sel.theme))))
    name = f"survey-{survey_id}-customers" + (f"-{sel.theme}" if sel.theme else "") + ".csv"
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@site_page
def mark_contacted(site: dict[str, Any], survey_id: int) -> Any:
    """Mark one customer of the list (form field `user_id`) or all of it as contacted, or undo it;
    the page's selection comes in the form's hidden fields."""
    survey = _survey(site, survey_id)
    form = request.form
    args = _clean([(n, v) for n, v in form.items(multi=True) if n in PAGE_KEYS or n.startswith(MEASURE)])
    sel = _selection_or_error(site, survey, args)
    if not isinstance(sel, Selection):
        return sel
    contacted = {"true": True, "false": False}.get(form.get("contacted", "true"))
    if contacted is None:
        return render_template("dashboard/error.html", status=400,
                               message="The value of 'contacted' is not valid: expected true or false."), 400
    user_id = form.get("user_id")
    if user_id is not None and not 1 <= len(user_id) <= 255:
        return render_template("dashboard/error.html", status=400,
                               message="The value of 'user_id' is not valid: 1 to 255 characters."), 400
    account = current_account()
    services = _services()
    q = _customer_query(sel, page=False)
    out = off_loop(theme_service.mark_contacted, services.storage, survey, q, sel.theme,
                   None if user_id is None else [user_id], contacted, services.now())
    audit.record(services.storage, account.actor, "customers.contacted", f"survey:{survey_id}",  # type: ignore[union-attr]
                 {"theme": sel.theme, "contacted": contacted, "customers": out["customers"], "filters": q.describe()})
    back = safe_next(form.get("next")) or page_url(site["id"], survey_id, args)
    return redirect(back + "#customers", code=303)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/sites/<int:site_id>/surveys/<int:survey_id>/insights", "survey_insights", survey_insights)
    bp.add_url_rule("/sites/<int:site_id>/surveys/<int:survey_id>/insights/customers.csv",
                    "survey_insights_customers_export", customers_export)
    bp.add_url_rule("/sites/<int:site_id>/surveys/<int:survey_id>/insights/contacted",
                    "survey_insights_contacted", mark_contacted, methods=["POST"])
