"""A user: why they were or were not asked (their decisions, newest first, in the engine's words),
their prompts and their answers.

Read through the same services as the API: `Storage.user_decisions` (`GET /api/v1/users/<id>/
decisions`) and `user_export.export_document` (`GET /api/v1/users/<id>/export`).
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from ..core import reasons
from ..storage import erasure
from ..user_export import export_document
from .access import site_page
from .editing import when

LIMIT = 200  # decisions shown; the total says how many there are


def _services() -> Any:
    return current_app.extensions["ces"]


def _json(value: Any) -> str:
    """Properties and traits as readable JSON text (escaped by the template like any text)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _local(iso: str | None, site: dict[str, Any]) -> str:
    """An export's ISO time (UTC) in the site's time zone."""
    if not iso:
        return ""
    return when(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp(), site)


@site_page
def find_user(site: dict[str, Any]) -> Any:
    """The search box: to the user's page (the id is a path: any characters)."""
    user_id = request.args.get("user_id", "").strip()
    if not user_id:
        return redirect(url_for("dashboard.test_trigger", site_id=site["id"]))
    return redirect(url_for("dashboard.user", site_id=site["id"], user_id=user_id))


@site_page
def user(site: dict[str, Any], user_id: str) -> Any:
    services = _services()
    storage = services.storage
    rows, total = storage.user_decisions(site["id"], user_id, LIMIT)
    decisions = [{**r, "when": when(r["received_at"], site), "title": reasons.title(r["reason"] or ""),
                  "props_text": _json(r["properties"]) if r["properties"] else ""} for r in rows]
    try:
        doc = export_document(storage, site, user_id, services.now())
    except erasure.NotFound:
        doc = None
    surveys = {s["id"]: s["name"] for s in storage.list_rows("surveys", {"site_id": site["id"]}, 500, 0)[0]}
    triggers = {t["id"]: t["name"] for t in storage.list_rows("triggers", {"site_id": site["id"]}, 500, 0)[0]}
    prompts = [{**p, **{f"{k}_local": _local(p.get(k), site) for k in ("created_at", "shown_at", "closed_at")}}
               for p in (doc["prompts"] if doc else [])]
    answers = {a["prompt_id"]: a for a in (doc["answers"] if doc else [])}
    return render_template("dashboard/user.html", site=site, active="test", user_id=user_id, decisions=decisions,
                           total=total, limit=LIMIT, doc=doc, prompts=list(reversed(prompts)), answers=answers,
                           surveys=surveys, triggers=triggers,
                           traits_text=_json(doc["traits"]) if doc and doc.get("traits") else "")


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/sites/<int:site_id>/users", "find_user", find_user)
    bp.add_url_rule("/sites/<int:site_id>/users/<path:user_id>", "user", user)
