"""`/demo`: a pretend shop that embeds the widget, with a pretend backend beside it.

Its backend routes talk to our API over HTTP with the site's secret key, exactly as a real
shop's or helpdesk's backend would: the demo exercises the real path, not a shortcut.
"""
from __future__ import annotations

import json
import random
import re
import secrets
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, redirect, request, url_for

from .api.body import json_object
from .api.errors import ApiError
from .core.operational import demo_support_properties

bp = Blueprint("demo", __name__, url_prefix="/demo")
PAGE = Path(__file__).with_name("demo_page.html")
SCRIPT = Path(__file__).with_name("demo_page.js")  # a file, not inline: the page's CSP allows no inline script


def _site() -> dict[str, Any]:
    site = current_app.extensions["ces"].storage.first_site()
    if site is None:
        raise ApiError(404, "not_found", "No site yet: run `ces serve` or `ces demo` once.")
    return site


def _call_api(method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """Our own API, over HTTP, as the shop's backend."""
    req = urllib.request.Request(request.host_url.rstrip("/") + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {_site()['secret_key']}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


@bp.get("/")
def page():
    user = request.args.get("user") or ""
    # The id is written into the page's HTML and JS: only plain characters, never markup.
    if not re.fullmatch(r"[\w.@-]{1,64}", user):
        return redirect(url_for("demo.page", user=f"shopper-{secrets.token_hex(3)}"))
    site = _site()
    survey = current_app.extensions["ces"].storage.one(
        "select id from surveys where site_id = ? order by id limit 1", [site["id"]])
    html = (PAGE.read_text()
            .replace("{{SITE_KEY}}", site["site_key"])
            .replace("{{USER}}", user)
            .replace("{{SURVEY_ID}}", str(survey["id"] if survey else 0)))
    return Response(html, mimetype="text/html")


@bp.get("/demo.js")
def script():
    return Response(SCRIPT.read_text(), mimetype="application/javascript", headers={"Cache-Control": "no-cache"})


def _send(name: str) -> Response:
    body = json_object()
    user = body.get("user")
    if not isinstance(user, str) or not user:
        raise ApiError(400, "validation_error", "Invalid request.", {"user": ["Missing data for required field."]})
    order = secrets.token_hex(4)
    # The support ticket carries the operational measures under their conventional names
    # (core/operational.py), so the demo's answers show them as effort drivers.
    properties = {"order_id": order, "amount": 79.9} if name == "checkout_completed" else \
        {"ticket_id": order, **demo_support_properties(random.Random())}
    status, result = _call_api("POST", "/api/v1/events",
                               {"user_id": user, "name": name, "properties": properties, "event_id": f"demo-{order}"})
    return Response(json.dumps(result), status=status, mimetype="application/json")


@bp.post("/checkout")
def checkout():
    return _send("checkout_completed")


@bp.post("/ticket")
def ticket():
    return _send("ticket_closed")


@bp.get("/score")
def score():
    survey_id = request.args.get("survey", type=int)
    status, result = _call_api("GET", f"/api/v1/surveys/{survey_id}/score")
    return Response(json.dumps(result), status=status, mimetype="application/json")
