"""The admin API's bodies, validated with marshmallow: every refusal names the field.

The schemas check each field on its own; what needs the database (does survey 7 exist on this
site?) is checked by the endpoints, with the same error shape. Field-level rules that already
live in the pure core are reused, not repeated: `conditions.validate`, `fatigue.validate_policy`,
`fatigue.validate_quota`.
"""
from __future__ import annotations

import math
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from ..core import conditions
from ..core.fatigue import MAX_SECONDS, validate_policy, validate_quota
from ..core.limits import check_object
from ..core.metrics import METRICS
from .schemas import SQLITE_INT

STATUSES = ("active", "paused")
PROPERTY_NAME = r"^[A-Za-z_][A-Za-z0-9_.]*$"
READ_ONLY = ("id", "created_at", "updated_at")


class StrictNumber(fields.Field):
    """A JSON number: no strings, no booleans, no NaN or infinity."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValidationError("Not a valid number.")
        return value


def _strict_int(**kw: Any) -> fields.Integer:
    given = kw.pop("validate", None)
    return fields.Integer(strict=True, validate=[SQLITE_INT, *([given] if given else [])], **kw)


class Checked(fields.Field):
    """A JSON value checked by one of the core's validators; its errors keep their nesting."""

    def __init__(self, check: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        errors = self.check(value)
        if errors:
            raise ValidationError(errors)
        return value


def _object(value: Any) -> None:
    problem = check_object(value)
    if problem:
        raise ValidationError(problem)


class _Refuse(Schema):
    @pre_load
    def _read_only(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict):
            bad = {k: ["Read-only field."] for k in READ_ONLY if k in data}
            if bad:
                raise ValidationError(bad)
        return data


# --------------------------------------------------------------------------- surveys

class SurveyTextsSchema(Schema):
    question = fields.String(required=True, validate=validate.Length(min=1, max=500))
    low_label = fields.String(allow_none=True, validate=validate.Length(max=100))
    high_label = fields.String(allow_none=True, validate=validate.Length(max=100))
    labels = fields.List(fields.String(validate=validate.Length(max=100)), allow_none=True,
                         validate=validate.Length(max=11))
    followup = fields.String(allow_none=True, validate=validate.Length(max=500))


class SurveySchema(_Refuse):
    site_id = _strict_int(load_default=None)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    metric = fields.String(required=True, validate=validate.OneOf(sorted(METRICS)))
    default_locale = fields.String(load_default="en", validate=validate.Length(min=2, max=35))
    texts = fields.Dict(keys=fields.String(validate=validate.Length(min=2, max=35)),
                        values=fields.Nested(SurveyTextsSchema), load_default=dict,
                        validate=validate.Length(max=50))
    followup_max_score = _strict_int(load_default=None, allow_none=True)
    appearance = fields.Raw(load_default=dict, validate=_object)
    quota = Checked(validate_quota, load_default=dict)
    status = fields.String(load_default="active", validate=validate.OneOf(STATUSES))

    @validates_schema
    def _followup_in_scale(self, data: dict[str, Any], **kwargs: Any) -> None:
        metric = METRICS.get(data.get("metric", ""))
        score = data.get("followup_max_score")
        if metric is not None and score is not None and not metric.in_scale(score):
            raise ValidationError(f"Must be within the {metric.key} scale ({metric.min}-{metric.max}).",
                                  "followup_max_score")


# --------------------------------------------------------------------------- triggers

class VariantSchema(Schema):
    survey_id = _strict_int(required=True)
    weight = StrictNumber(required=True, validate=validate.Range(min=0, max=100))
    # Stored on each prompt (`prompts.variant`) for the reports' variant filter; default: the survey id.
    label = fields.String(validate=validate.Length(min=1, max=64))


def _weights(variants: Any) -> None:
    if variants and not math.isclose(sum(v["weight"] for v in variants), 100.0, abs_tol=1e-6):
        raise ValidationError("Variant weights must sum to 100.")


class TriggerSchema(_Refuse):
    site_id = _strict_int(load_default=None)
    name = fields.String(load_default="", validate=validate.Length(max=200))
    event_name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    survey_id = _strict_int(required=True)
    conditions = Checked(conditions.validate, load_default=None, allow_none=True)
    source = fields.String(load_default="backend", validate=validate.OneOf(("backend", "any")))
    sample_rate = StrictNumber(load_default=100.0, validate=validate.Range(min=0, max=100))
    variants = fields.List(fields.Nested(VariantSchema), load_default=list,
                           validate=[validate.Length(max=20), _weights])
    delay_seconds = _strict_int(load_default=0, validate=validate.Range(min=0, max=MAX_SECONDS))
    ttl_seconds = _strict_int(load_default=7 * 86400, validate=validate.Range(min=1, max=MAX_SECONDS))
    transaction_key = fields.String(load_default=None, allow_none=True,
                                    validate=[validate.Length(min=1, max=128),
                                              validate.Regexp(PROPERTY_NAME,
                                                              error="Must be a property name (letters, digits, "
                                                                    "'_' and '.', not starting with a digit).")])
    priority = _strict_int(load_default=0, validate=validate.Range(min=-1_000_000, max=1_000_000))
    status = fields.String(load_default="active", validate=validate.OneOf(STATUSES))


# --------------------------------------------------------------------------- sites, queries

class FatiguePolicySchema(Schema):
    """A site's fatigue policy: `fatigue.validate_policy` is the authority (missing keys: defaults)."""

    @pre_load
    def _policy(self, data: Any, **kwargs: Any) -> Any:
        errors = validate_policy(data)
        if errors:
            raise ValidationError(errors)
        return {}

    def load(self, data: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        super().load(data, **kwargs)  # runs the check above
        return dict(data)


class ListQuerySchema(Schema):
    site = fields.Integer(load_default=None, validate=SQLITE_INT)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2 ** 62))
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


class TriggerListQuerySchema(ListQuerySchema):
    event_name = fields.String(load_default=None)
    survey_id = fields.Integer(load_default=None, validate=SQLITE_INT)


class DecisionsQuerySchema(Schema):
    site = fields.Integer(load_default=None, validate=SQLITE_INT)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
