"""`POST /api/v1/events` and `POST /api/v1/identify`: the site's backend talking to us."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from marshmallow import ValidationError

from ..ingest import ingest
from ..rate_limits import spend_api_events
from .auth import current_site
from .body import json_object
from .errors import ApiError
from .schemas import DryRunSchema, IdentifyBatchSchema, IdentifySchema, load_events

bp = Blueprint("events", __name__, url_prefix="/api/v1")


def _events_from_body() -> list[dict[str, Any]]:
    events = load_events(json_object())
    for event in events:
        if event["timestamp"] is not None:
            event["timestamp"] = event["timestamp"].timestamp()
    return events


@bp.post("/events")
def post_events():
    site = current_site()
    try:
        query = DryRunSchema().load(request.args)
    except ValidationError as err:
        raise ApiError(400, "validation_error", "Invalid query string.", err.normalized_messages()) from err
    dry_run = query["dry_run"]
    events = _events_from_body()
    spend_api_events(site, len(events))
    results = ingest(current_app.extensions["ces"], site, events, source="backend", dry_run=dry_run,
                     explain=query["explain"])
    return jsonify(results=results, dry_run=dry_run)


@bp.post("/identify")
def post_identify():
    site = current_site()
    body = json_object()
    users = IdentifyBatchSchema().load(body)["users"] if "users" in body else [IdentifySchema().load(body)]
    spend_api_events(site, len(users))
    services = current_app.extensions["ces"]
    with services.storage.write() as db:
        for user in users:
            services.storage.merge_traits(db, site["id"], user["user_id"], user["traits"], services.now())
    return jsonify(users=len(users))
