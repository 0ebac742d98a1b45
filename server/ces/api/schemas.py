"""Request bodies, validated with marshmallow: every refusal names the field and the problem."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from ..core.limits import check_object


def _object_limits(value: Any) -> None:
    problem = check_object(value)
    if problem:
        raise ValidationError(problem)


class EventSchema(Schema):
    user_id = fields.String(required=True, validate=validate.Length(min=1, max=256))
    name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    properties = fields.Raw(load_default=dict, validate=_object_limits)
    timestamp = fields.AwareDateTime(load_default=None, format="iso", default_timezone=None)
    event_id = fields.String(load_default=None, validate=validate.Length(min=1, max=128))


class EventBatchSchema(Schema):
    events = fields.List(fields.Nested(EventSchema), required=True,
                         validate=validate.Length(min=1, max=1000))


class IdentifySchema(Schema):
    user_id = fields.String(required=True, validate=validate.Length(min=1, max=256))
    traits = fields.Raw(required=True, validate=_object_limits)


class IdentifyBatchSchema(Schema):
    users = fields.List(fields.Nested(IdentifySchema), required=True, validate=validate.Length(min=1, max=1000))


class DryRunSchema(Schema):
    dry_run = fields.Boolean(load_default=False)
