"""The Surveys list and the Survey editor (new, edit), with a live preview of the prompt drawn by
the real widget (static/survey-editor.js, static/preview-frame.js).

The form is read into the admin API's survey body (`survey_body`) and saved through the same
service as `POST/PATCH /api/v1/surveys` (rules_editing.py); a refusal re-renders the form with
each message next to its field, and nothing is saved. The preview takes the same form, reads it
the same way, and answers the `prompt` message a user would get (core/prompt_message.py).
"""
from __future__ import annotations

import itertools
from typing import Any, Mapping

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from .. import rules_editing
from ..core.metrics import METRICS
from ..core.prompt_message import prompt_message
from ..core.texts import LANGUAGES, builtin
from .access import current_account, site_page
from .editing import flat_errors, number, reach

TEXT_KEYS = ("question", "low_label", "high_label", "labels", "followup", "thanks")
QUOTA_KEYS = ("max_prompts_per_day", "max_answers_per_day", "max_prompts_total", "max_answers_total")
PLACEMENTS = (("bottom-right", "Bottom right"), ("bottom-left", "Bottom left"), ("center", "Centre (modal)"),
              ("inline", "Inline, in an element of the page"))
THEMES = (("auto", "Auto (follows the device)"), ("light", "Light"), ("dark", "Dark"))
METRIC_NAMES = {
    "ces7": "CES 2.0 — agreement, 1–7", "ces5": "CES — 5 points, very difficult … very easy",
    "csat5": "CSAT — 5 points, very unsatisfied … very satisfied", "nps": "NPS — 0–10",
    "ves7": "VES — value enhancement, 1–7", "ease0_10": "Ease rating, 0–10", "ease1_10": "Ease rating, 1–10",
}
_preview_ids = itertools.count(1)


def _services() -> Any:
    return current_app.extensions["ces"]


# --------------------------------------------------------------------------- form <-> body

def _locales(form: MultiDict) -> list[str]:
    """The locales of the form, in order, without repeats; plus one being added (no-script path)."""
    seen: list[str] = []
    for loc in form.getlist("locales"):
        loc = loc.strip()
        if loc and loc not in seen:
            seen.append(loc)
    return seen


def _texts(form: MultiDict, locale: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in TEXT_KEYS:
        raw = form.get(f"texts.{locale}.{key}", "")
        if key == "labels":
            lines = [line.strip() for line in raw.splitlines() if line.strip()]
            if lines:
                out[key] = lines
        elif raw.strip():
            out[key] = raw.strip()
    return out


def survey_body(form: MultiDict) -> dict[str, Any]:
    """The admin API's survey body from the editor's form fields."""
    appearance = {k: form.get(f"appearance.{k}", "").strip() for k in ("placement", "theme", "color", "target")}
    if appearance.get("placement") != "inline":
        appearance.pop("target")
    body: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "metric": form.get("metric", ""),
        "default_locale": form.get("default_locale", "").strip() or "en",
        "status": "paused" if form.get("paused") else "active",
        "followup_max_score": number(form.get("followup_max_score")),
        "appearance": {k: v for k, v in appearance.items() if v},
        "quota": {k: number(form.get(f"quota.{k}")) for k in QUOTA_KEYS},
        "texts": {loc: _texts(form, loc) for loc in _locales(form)},
    }
    slug = form.get("slug", "").strip()
    if slug:
        body["slug"] = slug
    return body


def form_values(survey: Mapping[str, Any]) -> dict[str, Any]:
    """The form's fields from a stored survey (as the API shows it)."""
    values: dict[str, Any] = {
        "name": survey.get("name") or "", "slug": survey.get("slug") or "", "metric": survey.get("metric") or "ces7",
        "default_locale": survey.get("default_locale") or "en", "paused": survey.get("status") == "paused",
        "followup_max_score": "" if survey.get("followup_max_score") is None else str(survey["followup_max_score"]),
    }
    for key, value in (survey.get("appearance") or {}).items():
        values[f"appearance.{key}"] = "" if value is None else str(value)
    for key in QUOTA_KEYS:
        value = (survey.get("quota") or {}).get(key)
        values[f"quota.{key}"] = "" if value is None else str(value)
    texts = survey.get("texts") or {}
    values["locales"] = list(texts) or [values["default_locale"]]
    for loc, t in texts.items():
        for key in TEXT_KEYS:
            value = t.get(key)
            values[f"texts.{loc}.{key}"] = "\n".join(value) if isinstance(value, list) else (value or "")
    return values


def _values_from_form(form: MultiDict) -> dict[str, Any]:
    values: dict[str, Any] = {k: form.get(k, "") for k in form if k not in ("locales", "csrf_token", "action")}
    values["paused"] = bool(form.get("paused"))
    values["locales"] = _locales(form) or [form.get("default_locale") or "en"]
    return values


# --------------------------------------------------------------------------- pages

def _rows(site: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows, _ = _services().storage.list_rows("surveys", {"site_id": site["id"]}, 500, 0)
    return [rules_editing.survey_json(r) for r in rows]


@site_page
def surveys(site: dict[str, Any]) -> Any:
    storage = _services().storage
    triggers, _ = storage.list_rows("triggers", {"site_id": site["id"]}, 500, 0)
    uses: dict[int, int] = {}
    for t in triggers:
        for sid in {t["survey_id"], *[int(v["survey_id"]) for v in (t.get("variants") or [])]}:
            uses[sid] = uses.get(sid, 0) + 1
    return render_template("dashboard/surveys.html", site=site, active="surveys", surveys=_rows(site),
                           uses=uses, metric_names=METRIC_NAMES,
                           results_endpoint="dashboard.survey_results" in current_app.view_functions)


def _editor(site: Mapping[str, Any], survey: Mapping[str, Any] | None, values: dict[str, Any],
            errors: dict[str, list[str]], status: int = 200) -> Any:
    metric = values.get("metric") if values.get("metric") in METRICS else "ces7"
    placeholders = {loc: builtin(metric, loc.split("-")[0].lower()) for loc in values["locales"]}
    html = render_template(
        "dashboard/survey_edit.html", site=site, active="surveys", survey=survey, v=values, errors=errors,
        metrics=METRICS, metric_names=METRIC_NAMES, placements=PLACEMENTS, themes=THEMES, languages=LANGUAGES,
        placeholders=placeholders, quota_keys=QUOTA_KEYS)
    return html, status


def _save(site: Mapping[str, Any], survey: Mapping[str, Any] | None) -> Any:
    form = request.form
    values = _values_from_form(form)
    action = form.get("action", "save")
    if action == "add_locale":  # without script: one more locale's fields, nothing saved
        new = form.get("add_locale", "").strip()
        if new and new not in values["locales"]:
            values["locales"].append(new)
        return _editor(site, survey, values, {})
    if action.startswith("remove:"):
        values["locales"] = [loc for loc in values["locales"] if loc != action[7:]] or ["en"]
        return _editor(site, survey, values, {})
    account = current_account()
    services = _services()
    body = survey_body(form)
    try:
        if survey is None:
            row = rules_editing.create_survey(services.storage, account.actor, reach(account),
                                              {**body, "site_id": site["id"]}, services.now())
        else:
            row = rules_editing.update_survey(services.storage, account.actor, survey, body, partial=True,
                                              now=services.now())
    except ValidationError as err:
        return _editor(site, survey, values, flat_errors(err.normalized_messages()), 400)
    flash(f"Survey “{row['name']}” saved.", "notice")
    return redirect(url_for("dashboard.edit_survey", site_id=site["id"], survey_id=row["id"]))


@site_page
def new_survey(site: dict[str, Any]) -> Any:
    if request.method == "POST":
        return _save(site, None)
    values = form_values({"metric": "ces7", "default_locale": "en"})
    values["name"] = ""
    return _editor(site, None, values, {})


@site_page
def edit_survey(site: dict[str, Any], survey_id: int) -> Any:
    row = _services().storage.get_row("surveys", survey_id)
    if row is None:
        abort(404)
    if request.method == "POST":
        return _save(site, row)
    return _editor(site, row, form_values(rules_editing.survey_json(row)), {})


# --------------------------------------------------------------------------- preview

def preview_survey(body: Mapping[str, Any]) -> dict[str, Any]:
    """A draft as the prompt code sees a survey: what cannot be read yet takes its default."""
    metric = body.get("metric") if body.get("metric") in METRICS else "ces7"
    score = body.get("followup_max_score")
    if not isinstance(score, int) or not METRICS[metric].in_scale(score):
        score = None
    return {"id": 0, "metric": metric, "texts": body.get("texts") or {},
            "default_locale": body.get("default_locale") or "en", "followup_max_score": score,
            "appearance": body.get("appearance") or {}}


@site_page
def survey_preview(site: dict[str, Any]) -> Any:
    """The editor's form as a query (and `preview_locale`): the `prompt` message the widget would
    get. A GET: it changes nothing, so a read-only account sees the preview too."""
    draft = preview_survey(survey_body(request.args))
    locale = request.args.get("preview_locale") or draft["default_locale"]
    message = prompt_message(f"preview-{next(_preview_ids)}", draft, [locale], _services().now() + 3600)
    return jsonify(message=message)


@site_page
def preview_frame(site: dict[str, Any]) -> Any:
    """The page inside the editor's preview frame: the real widget, fed by the editor, no socket."""
    response = Response(render_template("dashboard/preview_frame.html", site=site))
    # Framed by the dashboard only; the frame itself is sandboxed (scripts, no same-origin).
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/sites/<int:site_id>/surveys", "surveys", surveys)
    bp.add_url_rule("/sites/<int:site_id>/surveys/new", "new_survey", new_survey, methods=["GET", "POST"])
    bp.add_url_rule("/sites/<int:site_id>/surveys/<int:survey_id>/edit", "edit_survey", edit_survey,
                    methods=["GET", "POST"])
    bp.add_url_rule("/sites/<int:site_id>/surveys/preview", "survey_preview", survey_preview)
    bp.add_url_rule("/sites/<int:site_id>/surveys/preview-frame", "survey_preview_frame", preview_frame)
