"""Reading a request: a JSON body (strictly: core/json_input.py) and the text of its URL, each
refused with a clear 400 naming the field or parameter."""
from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, request
from marshmallow import Schema

from ..core import json_input
from .errors import ApiError


def json_object() -> dict[str, Any]:
    if request.get_data(cache=True) and not request.is_json:
        raise ApiError(415, "unsupported_media_type",
                       "Send the body as JSON, with 'Content-Type: application/json'.",
                       {"Content-Type": [f"Got {request.mimetype or 'none'}."]})
    try:
        data = json_input.loads(request.get_data(cache=True))
    except json_input.JsonRefused as refused:
        raise _refusal(refused) from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", "Body must be a JSON object.")
    return data


def _refusal(refused: json_input.JsonRefused) -> ApiError:
    if refused.kind == "syntax":
        return ApiError(400, "bad_json", f"Body must be valid JSON: {refused.message}")
    if refused.kind == "depth":
        return ApiError(400, "bad_json", f"Body is not accepted: {refused.message}")
    return ApiError(400, "validation_error", f"Invalid request: {refused.where()}: {refused.message}",
                    nested_fields(refused.path, refused.message))


def nested_fields(path: json_input.Path, message: str) -> dict[Any, Any]:
    """marshmallow's shape for an error at `path`: ("events", 1, "user_id") -> {"events": {1: {"user_id": [m]}}}."""
    out: Any = [message]
    for part in reversed(path):
        out = {json_input.display(part): out}
    return out if isinstance(out, dict) else {"_schema": out}


def load(schema: Schema) -> Any:
    """Validate the body with `schema`; marshmallow's ValidationError becomes a 400 naming fields."""
    return schema.load(json_object())


# --------------------------------------------------------------------------- URL text

def check_url_text() -> None:
    """Every path segment and query parameter is UTF-8 without NUL (400 naming it otherwise).

    werkzeug would quietly turn invalid UTF-8 into U+FFFD, and pass NUL through to the queries."""
    environ = request.environ
    # The path as the client sent it (gunicorn: RAW_URI, werkzeug: REQUEST_URI), else as decoded.
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw_uri is not None:
        path = raw_uri.partition("?")[0]
        if "%" in path or not path.isascii():
            _check_path(unquote_to_bytes(path.encode("latin-1", "replace")))
    else:
        path = environ.get("PATH_INFO", "")
        if not path.isascii() or "\x00" in path:
            _check_path(path.encode("latin-1", "replace"))  # WSGI: the path's bytes, one character each
    query = request.query_string
    if query and (b"%" in query or not query.isascii()):
        _check_query(query)


def _check_path(raw: bytes) -> None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    problem = "Not valid UTF-8." if text is None else json_input.text_problem(text)
    if problem:
        # The route's parameter that holds the bad text (werkzeug decoded it with U+FFFD in its place).
        name = next((k for k, v in (request.view_args or {}).items()
                     if isinstance(v, str) and ("\ufffd" in v or "\x00" in v)), "path")
        raise ApiError(400, "validation_error", f"Invalid {name} in the URL: {problem}", {name: [problem]})


def _check_query(query: bytes) -> None:
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        raw_key = unquote_to_bytes(name.replace(b"+", b" "))
        try:
            key = raw_key.decode("utf-8")
            problem = json_input.text_problem(key)
        except UnicodeDecodeError:
            key, problem = raw_key.decode("latin-1"), "Not valid UTF-8."
        if problem is None:
            try:
                problem = json_input.text_problem(unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8"))
            except UnicodeDecodeError:
                problem = "Not valid UTF-8."
        if problem:
            shown = json_input.display(key)
            raise ApiError(400, "validation_error", f"Invalid query parameter {shown}: {problem}", {shown: [problem]})


def register(app: Flask) -> None:
    app.before_request(check_url_text)
