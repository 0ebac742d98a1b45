"""Bodies of the sites endpoints, validated with marshmallow; the core checks origins and zones."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate

from ..core import origins
from ..core.time_zones import UTC_NAME as DEFAULT_ZONE, time_zone_error
from .admin_schemas import _Refuse

MAX_GRACE_SECONDS = 30 * 86400


def _origins(value: Any) -> None:
    problem = origins.list_problem(value)
    if problem:
        raise ValidationError(problem)


def _zone(value: Any) -> None:
    problem = time_zone_error(value)
    if problem:
        raise ValidationError(problem)


class SiteSchema(_Refuse):
    """A site as created (POST) or changed (PATCH, partial): the secret key is never a field."""

    read_only_fields = ("id", "site_key", "secret_key", "created_at", "fatigue", "previous_secret_expires_at")

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    identity_verification = fields.Boolean(load_default=False, truthy={True}, falsy={False})
    allowed_origins = fields.Raw(load_default=list, validate=_origins,
                                 metadata={"type": "array", "items": {"type": "string"},
                                           "description": "Origins whose pages may open the widget's socket: "
                                                          "https://shop.example, https://*.shop.example, or *."})
    time_zone = fields.String(load_default=DEFAULT_ZONE, validate=_zone,
                              metadata={"description": "An IANA time zone name, e.g. Europe/Paris."})

    @post_load
    def _clean(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if "allowed_origins" in data:
            data["allowed_origins"] = origins.clean(data["allowed_origins"])
        return data


class RotateSchema(Schema):
    grace_seconds = fields.Integer(strict=True, load_default=None,
                                   validate=validate.Range(min=0, max=MAX_GRACE_SECONDS),
                                   metadata={"description": "How long the replaced secret keeps working "
                                                            "(default: the server's SECRET_GRACE_SECONDS, 24 h)."})
