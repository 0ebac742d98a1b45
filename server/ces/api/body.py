"""Reading a JSON body, with a clear 400 for anything that is not a JSON object."""
from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema

from .errors import ApiError


def json_object() -> dict[str, Any]:
    data = request.get_json(silent=True, force=True)
    if data is None:
        raise ApiError(400, "bad_json", "Body must be valid JSON.")
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", "Body must be a JSON object.")
    return data


def load(schema: Schema) -> Any:
    """Validate the body with `schema`; marshmallow's ValidationError becomes a 400 naming fields."""
    return schema.load(json_object())
