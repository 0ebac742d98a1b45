"""The HTTP floor of `POST /api/v1/events`: the production server stack with nothing behind it.

gunicorn with `ces serve`'s settings and a Flask view that parses the body and answers one result
per event in the real response's shape: no validation, no decision, no database. What this
serves per second bounds what the real endpoint can, on the same machine in the same run.

With `--record DB` the view also records every event the way the real endpoint must (the issue
asks for every decision to be stored): one `BEGIN IMMEDIATE` transaction per request through the
product's own storage module (`Storage.write(durable=False)`, `rules_insert_events`), into the
product's schema, with the same row per event, and still no decision. That is the least any
implementation of the endpoint does: the "recording floor".

    .venv/bin/python bench/http_floor.py --port 8001 [--record /tmp/floor.db]
"""
from __future__ import annotations

import argparse
import time
from typing import Any

from flask import Flask, jsonify, request

from ces.core.compact_json import compact_json
from ces.server import Gunicorn, options
from ces.storage import Storage

DETAIL = "trigger 1: properties.amount = 20 is not >= 50"


def record(storage: Storage, events: list[dict[str, Any]]) -> None:
    """Store one decided-event row per event, as `ingest()` does, without deciding anything."""
    now = time.time()
    with storage.write(durable=False) as db:
        first = storage.rules_next_event_row(db)
        storage.rules_insert_events(db, [
            (first + i, 1, e["event_id"], e["user_id"], e["name"], compact_json(e.get("properties") or {}), now, now,
             "backend", "skip", "conditions_false", DETAIL, 1, None) for i, e in enumerate(events)])


def create_app(record_db: str | None = None) -> Flask:
    app = Flask(__name__)
    storage = None
    if record_db is not None:
        storage = Storage(record_db)
        storage.migrate()

    @app.post("/api/v1/events")
    def events() -> Any:
        body = request.get_json()
        if storage is not None:
            record(storage, body["events"])
        return jsonify(results=[{"event_id": e.get("event_id"), "decision": "skip", "reason": "conditions_false",
                                 "detail": DETAIL, "prompt_id": None} for e in body["events"]], dry_run=False)

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(ok=True)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--record", metavar="DB", help="also store every event in this SQLite file")
    args = parser.parse_args()
    Gunicorn(options("127.0.0.1", args.port, args.threads), lambda: create_app(args.record)).run()


if __name__ == "__main__":
    main()
