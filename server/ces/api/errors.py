"""One error shape for every refusal: {"error": {"code", "message", "fields"}}.

Flask's own refusals (an unknown path, a non-integer id in a URL, a method a path does not have)
and an unexpected failure (500) answer the same shape, so a client parses one thing.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields


def not_found(kind: str, row_id: Any) -> ApiError:
    """The one 404 of an object, worded the same by every endpoint that looks it up."""
    return ApiError(404, "not_found", f"No {kind} {row_id}.", {f"{kind}_id": [f"Unknown {kind} {row_id}."]})


def error_response(status: int, code: str, message: str, fields: Any = None):
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return jsonify(error=body), status


_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}
_MESSAGES = {404: "No such path.", 405: "This path does not take this method."}


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        return error_response(err.status, err.code, err.message, err.fields)

    @app.errorhandler(ValidationError)
    def _validation(err: ValidationError):
        return error_response(400, "validation_error", "Invalid request body.", err.normalized_messages())

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        status = err.code or 500
        if status == 413:
            return error_response(413, "too_large", "Request body is over the size limit "
                                  f"({app.config['MAX_CONTENT_LENGTH']} bytes).")
        response = error_response(status, _CODES.get(status, "http_error"),
                                  _MESSAGES.get(status) or err.description or err.name)
        if status == 405 and err.valid_methods:  # type: ignore[attr-defined]
            response[0].headers["Allow"] = ", ".join(err.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("request failed")
        return error_response(500, "internal", "Internal error.")
