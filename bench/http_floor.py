"""The HTTP floor of `POST /api/v1/events`: the production server stack with nothing behind it.

gunicorn with `ces serve`'s settings and a Flask view that parses the body and answers one result
per event in the real response's shape: no validation, no decision, no database. What this
serves per second bounds what the real endpoint can, on the same machine in the same run.

    .venv/bin/python bench/http_floor.py --port 8001
"""
from __future__ import annotations

import argparse
from typing import Any

from flask import Flask, jsonify, request

from ces.server import Gunicorn, options

DETAIL = "trigger 1: properties.amount = 20 is not >= 50"


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/api/v1/events")
    def events() -> Any:
        body = request.get_json()
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
    args = parser.parse_args()
    Gunicorn(options("127.0.0.1", args.port, args.threads), create_app).run()


if __name__ == "__main__":
    main()
