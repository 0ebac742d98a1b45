"""Test a trigger: a user id, an event name and properties in; the engine's dry-run decision out,
in its own words ("Would not be asked: the user is not in the trigger's sample." and "trigger 3
samples 50% of users; this user is not in the sample"), with every trigger it tried.

The event goes through `ingest(..., dry_run=True, explain=True)`, the path of
`POST /api/v1/events?dry_run=true&explain=true`: decided against the stored rules, the user's
real history and traits, then rolled back, so nothing is recorded and nobody is asked.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from flask import Blueprint, current_app, render_template, request
from marshmallow import ValidationError

from ..api.schemas import load_events
from ..ingest import ingest
from .access import site_page
from .editing import flat_errors

SOURCES = (("backend", "the site's backend (API, SDK)"), ("widget", "the widget, in the page"))


def _services() -> Any:
    return current_app.extensions["ces"]


def _names(site: Mapping[str, Any]) -> tuple[dict[int, str], dict[int, str], list[str]]:
    storage = _services().storage
    surveys = {s["id"]: s["name"] for s in storage.list_rows("surveys", {"site_id": site["id"]}, 500, 0)[0]}
    rows = storage.list_rows("triggers", {"site_id": site["id"]}, 500, 0)[0]
    triggers = {t["id"]: t["name"] for t in rows}
    events = sorted({t["event_name"] for t in rows})
    return surveys, triggers, events


def dry_run(site: Mapping[str, Any], form: Mapping[str, str]) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """The explained dry-run result of the form's event, or the form's errors (nothing run)."""
    errors: dict[str, list[str]] = {}
    raw = form.get("properties", "").strip()
    properties: Any = {}
    if raw:
        try:
            properties = json.loads(raw)
        except ValueError as err:
            errors["properties"] = [f"Not valid JSON: {err.msg} (line {err.lineno}, column {err.colno})."]
    source = form.get("source") if form.get("source") in ("backend", "widget") else "backend"
    body = {"name": form.get("event_name", "").strip(), "user_id": form.get("user_id", ""), "properties": properties}
    try:
        events = load_events(body)
    except ValidationError as err:
        errors = {**flat_errors(err.normalized_messages()), **errors}
    if errors:
        return None, {("event_name" if k == "name" else k): v for k, v in errors.items()}
    for event in events:
        if event.get("timestamp") is not None:
            event["timestamp"] = event["timestamp"].timestamp()
    return ingest(_services(), site, events, source=source, dry_run=True, explain=True)[0], {}


@site_page
def test_trigger(site: dict[str, Any]) -> Any:
    """A GET, also when it runs (`run=1`): a dry run changes nothing, so a read-only account may
    run one, and the page's address can be sent to a colleague ("see why this user is not asked")."""
    surveys, triggers, events = _names(site)
    form = request.args
    v = {k: form.get(k, "") for k in ("user_id", "event_name", "properties", "source")}
    v["source"] = v["source"] or "backend"
    result, errors = (None, {})
    if form.get("run"):
        result, errors = dry_run(site, form)
    return render_template("dashboard/test_trigger.html", site=site, active="test", v=v, errors=errors,
                           result=result, surveys=surveys, triggers=triggers, events=events, sources=SOURCES), \
        400 if errors else 200


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/sites/<int:site_id>/test", "test_trigger", test_trigger)
