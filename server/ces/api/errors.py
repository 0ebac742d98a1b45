"""One error shape for every refusal: {"error": {"code", "message", "fields"}}."""
from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields


def error_response(status: int, code: str, message: str, fields: Any = None):
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return jsonify(error=body), status


_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        return error_response(err.status, err.code, err.message, err.fields)

    @app.errorhandler(ValidationError)
    def _validation(err: ValidationError):
        return error_response(400, "validation_error", "Invalid request.", err.normalized_messages())

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        status = err.code or 500
        if status == 413:
            return error_response(413, "too_large", "Request body is over the size limit "
                                  f"({app.config['MAX_CONTENT_LENGTH']} bytes).")
        return error_response(status, _CODES.get(status, "http_error"), err.description or err.name)
