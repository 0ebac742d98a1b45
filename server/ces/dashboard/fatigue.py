"""Fatigue: the site's policy as a form (global, per-metric-type and per-survey waits, the rolling
cap, one open prompt, what counts as a contact, the visit layers), and the diagnostic — in a
period, how many users were prompted by two or more surveys within 24 hours, and which survey
pairs collide for the same users.

The policy is saved through `rules_editing.set_fatigue` (as `PUT /api/v1/sites/<id>/fatigue`),
validated by the core's `fatigue.validate_policy`; the diagnostic is `fatigue_diagnostic.diagnose`
(as `GET /api/v1/sites/<id>/fatigue/diagnostic`), its query read by the API's schema.
"""
from __future__ import annotations

from typing import Any, Mapping

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from .. import fatigue_diagnostic, rules_editing
from ..api.fatigue_diagnostic import DiagnosticQuerySchema
from ..rules_cache import policy_from_settings
from ..storage.sites import SiteStore
from .access import current_account, site_page
from .editing import UNITS, flat_errors, number, seconds, split_seconds

DURATIONS = ("recontact_wait", "type_wait", "survey_wait", "max_prompts_window", "min_visit_seconds")
COUNTS = ("max_prompts", "max_prompts_per_visit")
FLAGS = ("one_open", "count_answered", "count_dismissed", "count_expired")


def _services() -> Any:
    return current_app.extensions["ces"]


def policy_body(form: Mapping[str, str]) -> dict[str, Any]:
    """The API's policy body from the form: an empty duration or count turns its layer off."""
    body: dict[str, Any] = {k: seconds(form.get(k), form.get(f"{k}_unit")) for k in DURATIONS}
    body.update({k: number(form.get(k)) for k in COUNTS})
    body.update({k: bool(form.get(k)) for k in FLAGS})
    return body


def form_values(policy: Mapping[str, Any]) -> dict[str, Any]:
    v: dict[str, Any] = {}
    for key in DURATIONS:
        v[key], v[f"{key}_unit"] = split_seconds(policy.get(key), "seconds" if key == "min_visit_seconds" else "days")
    for key in COUNTS:
        v[key] = "" if policy.get(key) is None else str(policy[key])
    for key in FLAGS:
        v[key] = bool(policy.get(key))
    return v


def _diagnostic(site: Mapping[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any], dict[str, list[str]]]:
    args = {k: request.args[k] for k in ("from", "to", "window_hours") if request.args.get(k)}
    try:
        q = DiagnosticQuerySchema().load(args)
    except ValidationError as err:
        return None, args, flat_errors(err.normalized_messages())
    services = _services()
    first, last = fatigue_diagnostic.period(site, services.now(), q["from_"], q["to"])
    if first > last or (last - first).days > 366:
        return None, args, {"from": ["The period is at most 367 days, and starts before it ends."]}
    found = fatigue_diagnostic.diagnose(services.storage, site, first, last, q["window_hours"])
    return found, {"from": found["from"], "to": found["to"], "window_hours": str(found["window_hours"])}, {}


def _page(site: Mapping[str, Any], v: dict[str, Any], errors: dict[str, list[str]], status: int = 200) -> Any:
    diagnostic, period, period_errors = _diagnostic(site)
    return render_template("dashboard/fatigue.html", site=site, active="fatigue", v=v, errors=errors,
                           units=UNITS, diagnostic=diagnostic, period=period, period_errors=period_errors), status


@site_page
def fatigue(site: dict[str, Any]) -> Any:
    services = _services()
    if request.method == "POST":
        account = current_account()
        stored = SiteStore(services.storage).get(site["id"])
        try:
            rules_editing.set_fatigue(services.storage, account.actor, stored, policy_body(request.form), services.now())
        except ValidationError as err:
            v = {k: request.form.get(k, "") for k in request.form}
            v.update({k: bool(request.form.get(k)) for k in FLAGS})
            return _page(site, v, flat_errors(err.normalized_messages()), 400)
        flash("Fatigue policy saved: it applies to the next event.", "notice")
        return redirect(url_for("dashboard.fatigue", site_id=site["id"]))
    stored = SiteStore(services.storage).get(site["id"])
    return _page(site, form_values(policy_from_settings((stored or {}).get("settings")).as_dict()), {})


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/sites/<int:site_id>/fatigue", "fatigue", fatigue, methods=["GET", "POST"])
