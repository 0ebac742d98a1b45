"""The Triggers list and the Trigger editor (new, edit).

The form — event, source, a conditions builder (property or trait, operator, value; all or any),
sampling, variants, delay, expiry, transaction key, priority, occurrences, cancel events, paused —
is read into the admin API's trigger body (`trigger_body`) and saved through the same service as
`POST/PATCH /api/v1/triggers` (rules_editing.py). The API's messages come back onto the rows and
fields that caused them (`field_errors`); nothing is saved on an error.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from .. import rules_editing
from ..core.conditions import OPS
from .access import current_account, site_page
from .editing import UNITS, flat_errors, number, reach, seconds, split_seconds, typed, untyped

OPERATORS = (("eq", "equals"), ("ne", "does not equal"), ("gt", ">"), ("gte", "≥"), ("lt", "<"), ("lte", "≤"),
             ("in", "is one of"), ("not_in", "is none of"), ("contains", "contains"),
             ("not_contains", "does not contain"), ("starts_with", "starts with"), ("ends_with", "ends with"),
             ("glob", "matches (glob)"), ("regex", "matches (regex)"), ("exists", "is set"),
             ("not_exists", "is not set"))
assert {k for k, _ in OPERATORS} == set(OPS)  # every operator of the core, and only those
NO_VALUE = ("exists", "not_exists")
LISTS = ("in", "not_in")
SOURCES = (("backend", "Backend events only"), ("any", "Backend and widget events"))


def _services() -> Any:
    return current_app.extensions["ces"]


def _indexes(form: MultiDict, prefix: str) -> list[int]:
    found = set()
    for key in form:
        if key.startswith(prefix + "."):
            part = key.split(".")[1]
            if part.isdigit():
                found.add(int(part))
    return sorted(found)


# --------------------------------------------------------------------------- form -> body

def _condition(form: MultiDict, i: int) -> dict[str, Any] | None:
    name = form.get(f"cond.{i}.name", "").strip()
    if not name:
        return None
    kind = "traits" if form.get(f"cond.{i}.kind") == "traits" else "properties"
    op = form.get(f"cond.{i}.op", "eq")
    leaf: dict[str, Any] = {"field": f"{kind}.{name}", "op": op}
    if op not in NO_VALUE:
        raw = form.get(f"cond.{i}.value", "")
        leaf["value"] = [typed(x) for x in raw.split(",") if x.strip()] if op in LISTS else typed(raw)
    return leaf


def trigger_body(form: MultiDict) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """The API's trigger body, and how its list items map back to the form's rows
    ({"conditions": {"0": "2"}}: the body's condition 0 is the form's row 2)."""
    rows: dict[str, dict[str, str]] = {"conditions": {}, "variants": {}, "occurrences": {}}
    body: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "event_name": form.get("event_name", "").strip(),
        "survey_id": number(form.get("survey_id")),
        "source": form.get("source", "backend"),
        "sample_rate": number(form.get("sample_rate")) if form.get("sample_rate", "").strip() else 100,
        "priority": number(form.get("priority")) if form.get("priority", "").strip() else 0,
        "delay_seconds": seconds(form.get("delay_seconds"), form.get("delay_seconds_unit")) or 0,
        "ttl_seconds": seconds(form.get("ttl_seconds"), form.get("ttl_seconds_unit")),
        "transaction_key": form.get("transaction_key", "").strip() or None,
        "status": "paused" if form.get("paused") else "active",
        "cancel_events": [e.strip() for e in form.get("cancel_events", "").split(",") if e.strip()],
        "cancel_same_transaction": bool(form.get("cancel_same_transaction")),
    }
    if body["ttl_seconds"] is None:
        body.pop("ttl_seconds")  # the API's default: 7 days
    slug = form.get("slug", "").strip()
    if slug:
        body["slug"] = slug
    if form.get("conditions_mode") == "json":
        raw = form.get("conditions_json", "").strip()
        try:
            body["conditions"] = json.loads(raw) if raw else None
        except ValueError:
            body["conditions"] = raw  # refused by the schema, next to the field
    else:
        leaves = []
        for i in _indexes(form, "cond"):
            leaf = _condition(form, i)
            if leaf is not None:
                rows["conditions"][str(len(leaves))] = str(i)
                leaves.append(leaf)
        group = "any" if form.get("match") == "any" else "all"
        body["conditions"] = {group: leaves} if leaves else None
    variants = []
    for i in _indexes(form, "var"):
        survey = form.get(f"var.{i}.survey_id", "").strip()
        if not survey:
            continue
        variant: dict[str, Any] = {"survey_id": number(survey), "weight": number(form.get(f"var.{i}.weight"))}
        label = form.get(f"var.{i}.label", "").strip()
        if label:
            variant["label"] = label
        rows["variants"][str(len(variants))] = str(i)
        variants.append(variant)
    body["variants"] = variants
    occurrences = []
    for i in _indexes(form, "occ"):
        kind = form.get(f"occ.{i}.kind", "nth")
        count = number(form.get(f"occ.{i}.count"))
        if count is None:
            continue
        if kind == "nth":
            item: dict[str, Any] = {"nth": count}
        else:
            item = {"event": form.get(f"occ.{i}.event", "").strip() or body["event_name"], "at_least": count}
            within = number(form.get(f"occ.{i}.within_days"))
            if within is not None:
                item["within_days"] = within
        rows["occurrences"][str(len(occurrences))] = str(i)
        occurrences.append(item)
    body["occurrences"] = occurrences
    return body, rows


_ROW_FIELDS = {"conditions": ("cond", {"field": "name", "op": "op", "value": "value"}),
               "variants": ("var", {"survey_id": "survey_id", "weight": "weight", "label": "label"}),
               "occurrences": ("occ", {"nth": "count", "at_least": "count", "event": "event",
                                       "within_days": "within_days"})}


def field_errors(messages: Any, rows: Mapping[str, Mapping[str, str]], json_mode: bool) -> dict[str, list[str]]:
    """The API's messages under the form's own field names (a condition's row, a variant's weight)."""
    out: dict[str, list[str]] = {}
    for key, value in flat_errors(messages).items():
        parts = key.split(".")
        name = key
        if parts[0] == "conditions" and json_mode:
            name = "conditions_json"
        elif parts[0] == "conditions" and len(parts) >= 3 and parts[1] in ("all", "any"):
            row = rows["conditions"].get(parts[2])
            field = _ROW_FIELDS["conditions"][1].get(parts[3] if len(parts) > 3 else "", "value")
            name = f"cond.{row}.{field}" if row is not None else "conditions"
        elif parts[0] in ("variants", "occurrences") and len(parts) >= 3 and parts[1].isdigit():
            prefix, fields = _ROW_FIELDS[parts[0]]
            row = rows[parts[0]].get(parts[1])
            name = f"{prefix}.{row}.{fields.get(parts[2], parts[2])}" if row is not None else parts[0]
        elif parts[0] in ("variants", "occurrences", "conditions"):
            name = parts[0]
        out.setdefault(name, []).extend(value)
    return out


# --------------------------------------------------------------------------- stored -> form

def _flat(conditions: Any) -> tuple[str, list[dict[str, Any]]] | None:
    """("all"|"any", leaves) when the builder can show the conditions; None when nested."""
    if not conditions:
        return "all", []
    if not isinstance(conditions, dict) or len(conditions) != 1:
        return None
    group, leaves = next(iter(conditions.items()))
    if group not in ("all", "any") or not all(isinstance(x, dict) and "field" in x for x in leaves):
        return None
    return group, leaves


def form_values(trigger: Mapping[str, Any]) -> dict[str, Any]:
    v: dict[str, Any] = {k: "" if trigger.get(k) is None else str(trigger.get(k)) for k in
                         ("name", "slug", "event_name", "survey_id", "source", "transaction_key", "priority")}
    rate = trigger.get("sample_rate", 100.0)
    v["sample_rate"] = f"{rate:g}" if isinstance(rate, (int, float)) else str(rate)
    v["paused"] = trigger.get("status") == "paused"
    v["delay_seconds"], v["delay_seconds_unit"] = split_seconds(trigger.get("delay_seconds") or None, "minutes")
    v["ttl_seconds"], v["ttl_seconds_unit"] = split_seconds(trigger.get("ttl_seconds", 7 * 86400))
    v["cancel_events"] = ", ".join(trigger.get("cancel_events") or [])
    v["cancel_same_transaction"] = bool(trigger.get("cancel_same_transaction"))
    flat = _flat(trigger.get("conditions"))
    cond_rows: list[dict[str, str]] = []
    if flat is None:
        v["conditions_mode"] = "json"
        v["conditions_json"] = json.dumps(trigger.get("conditions"), indent=2, ensure_ascii=False)
    else:
        v["conditions_mode"], v["match"] = "builder", flat[0]
        for leaf in flat[1]:
            kind, _, name = str(leaf.get("field", "")).partition(".")
            value = leaf.get("value")
            shown = ", ".join(untyped(x) for x in value) if isinstance(value, list) else \
                ("" if "value" not in leaf else untyped(value))
            cond_rows.append({"kind": kind, "name": name, "op": leaf.get("op", "eq"), "value": shown})
    v["conditions"] = cond_rows
    v["variants"] = [{"survey_id": str(x.get("survey_id", "")), "weight": f"{x.get('weight', '')}",
                      "label": x.get("label", "")} for x in trigger.get("variants") or []]
    v["occurrences"] = [{"kind": "nth" if "nth" in o else "at_least", "count": str(o.get("nth", o.get("at_least", ""))),
                         "event": o.get("event", ""), "within_days": "" if o.get("within_days") is None
                         else str(o["within_days"])} for o in trigger.get("occurrences") or []]
    return v


def _values_from_form(form: MultiDict) -> dict[str, Any]:
    v: dict[str, Any] = {k: form.get(k, "") for k in form if "." not in k}
    v["paused"], v["cancel_same_transaction"] = bool(form.get("paused")), bool(form.get("cancel_same_transaction"))
    v["conditions_mode"] = form.get("conditions_mode", "builder")
    v["conditions"] = [{k: form.get(f"cond.{i}.{k}", "") for k in ("kind", "name", "op", "value")}
                       for i in _indexes(form, "cond")]
    v["variants"] = [{k: form.get(f"var.{i}.{k}", "") for k in ("survey_id", "weight", "label")}
                     for i in _indexes(form, "var")]
    v["occurrences"] = [{k: form.get(f"occ.{i}.{k}", "") for k in ("kind", "count", "event", "within_days")}
                        for i in _indexes(form, "occ")]
    v["row_ids"] = {"conditions": _indexes(form, "cond"), "variants": _indexes(form, "var"),
                    "occurrences": _indexes(form, "occ")}
    return v


# --------------------------------------------------------------------------- pages

def _surveys(site: Mapping[str, Any]) -> list[dict[str, Any]]:
    return _services().storage.list_rows("surveys", {"site_id": site["id"]}, 500, 0)[0]


@site_page
def triggers(site: dict[str, Any]) -> Any:
    rows, _ = _services().storage.list_rows("triggers", {"site_id": site["id"]}, 500, 0)
    names = {s["id"]: s["name"] for s in _surveys(site)}
    items = sorted((rules_editing.trigger_json(r) for r in rows), key=lambda t: (t["event_name"], -t["priority"], t["id"]))
    return render_template("dashboard/triggers.html", site=site, active="triggers", triggers=items, names=names)


def _editor(site: Mapping[str, Any], trigger: Mapping[str, Any] | None, v: dict[str, Any],
            errors: dict[str, list[str]], status: int = 200) -> Any:
    for key in ("conditions", "variants", "occurrences"):
        ids = v.get("row_ids", {}).get(key) or list(range(len(v[key])))
        v.setdefault("row_ids", {})[key] = ids
    return render_template("dashboard/trigger_edit.html", site=site, active="triggers", trigger=trigger, v=v,
                           errors=errors, surveys=_surveys(site), operators=OPERATORS, sources=SOURCES,
                           units=UNITS, no_value=NO_VALUE), status


@site_page
def new_trigger(site: dict[str, Any]) -> Any:
    if request.method == "POST":
        return _save(site, None)
    surveys = _surveys(site)
    v = form_values({"survey_id": request.args.get("survey_id") or (surveys[0]["id"] if surveys else ""),
                     "source": "backend", "sample_rate": 100.0, "priority": 0, "ttl_seconds": 7 * 86400,
                     "event_name": request.args.get("event_name", "")})
    return _editor(site, None, v, {})


@site_page
def edit_trigger(site: dict[str, Any], trigger_id: int) -> Any:
    row = _services().storage.get_row("triggers", trigger_id)
    if row is None:
        abort(404)
    if request.method == "POST":
        return _save(site, row)
    return _editor(site, row, form_values(rules_editing.trigger_json(row)), {})


def _save(site: Mapping[str, Any], trigger: Mapping[str, Any] | None) -> Any:
    account = current_account()
    services = _services()
    body, rows = trigger_body(request.form)
    try:
        if trigger is None:
            row = rules_editing.create_trigger(services.storage, account.actor, reach(account),
                                               {**body, "site_id": site["id"]}, services.now())
        else:
            row = rules_editing.update_trigger(services.storage, account.actor, reach(account), trigger, body,
                                               partial=True, now=services.now())
    except ValidationError as err:
        errors = field_errors(err.normalized_messages(), rows, request.form.get("conditions_mode") == "json")
        return _editor(site, trigger, _values_from_form(request.form), errors, 400)
    flash(f"Trigger “{row['name']}” saved.", "notice")
    return redirect(url_for("dashboard.edit_trigger", site_id=site["id"], trigger_id=row["id"]))


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/sites/<int:site_id>/triggers", "triggers", triggers)
    bp.add_url_rule("/sites/<int:site_id>/triggers/new", "new_trigger", new_trigger, methods=["GET", "POST"])
    bp.add_url_rule("/sites/<int:site_id>/triggers/<int:trigger_id>/edit", "edit_trigger", edit_trigger,
                    methods=["GET", "POST"])
