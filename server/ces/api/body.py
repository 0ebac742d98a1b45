"""Reading a JSON body: 415 for a body that is not declared JSON, 400 for one that is not a JSON object."""
from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema

from .errors import ApiError


def json_object() -> dict[str, Any]:
    if request.get_data(cache=True) and not request.is_json:
        raise ApiError(415, "unsupported_media_type",
                       "Send the body as JSON, with 'Content-Type: application/json'.",
                       {"Content-Type": [f"Got {request.mimetype or 'none'}."]})
    data = request.get_json(silent=True, force=True)
    if data is None:
        raise ApiError(400, "bad_json", "Body must be valid JSON.")
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", "Body must be a JSON object.")
    return data


def load(schema: Schema) -> Any:
    """Validate the body with `schema`; marshmallow's ValidationError becomes a 400 naming fields."""
    return schema.load(json_object())
