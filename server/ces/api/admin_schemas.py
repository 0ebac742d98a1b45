"""The admin API's bodies, validated with marshmallow: every refusal names the field.

The schemas check each field on its own; what needs the database (does survey 7 exist on this
site?) is checked by the endpoints, with the same error shape. Field-level rules that already
live in the pure core are reused, not repeated: `conditions.validate`, `fatigue.validate_policy`,
`fatigue.validate_quota`.
"""
from __future__ import annotations

import math
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema

from ..core import conditions, occurrences
from ..core.fatigue import MAX_SECONDS, validate_policy, validate_quota
from ..core.limits import check_object
from ..core.metrics import METRICS
from ..core.texts import CSAT_PRESETS, all_languages
from .schemas import SQLITE_INT

STATUSES = ("active", "paused")
PROPERTY_NAME = r"^[A-Za-z_][A-Za-z0-9_.]*$"
READ_ONLY = ("id", "created_at", "updated_at")
MAX_ID = 2**63 - 1  # SQLite's integers: a larger id is refused, never an overflow
SLUG = r"^[a-z0-9][a-z0-9-]{0,63}$"


class StrictNumber(fields.Field):
    """A JSON number: no strings, no booleans, no NaN or infinity."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValidationError("Not a valid number.")
        return value


def _strict_int(**kw: Any) -> fields.Integer:
    given = kw.pop("validate", None)
    return fields.Integer(strict=True, validate=[SQLITE_INT, *([given] if given else [])], **kw)


def id_field(**kw: Any) -> fields.Integer:
    """A row id (in a body or a query string): 1 to 2^63-1."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kw)


def slug_field() -> fields.String:
    """The stable key of a survey or trigger on its site (configuration files name rows by it)."""
    return fields.String(load_default=None, validate=validate.Regexp(
        SLUG, error="Must be 1-64 lowercase letters, digits and '-', not starting with '-'."))


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
    """Refuses the read-only fields, reported together with every other field's error."""

    read_only_fields: tuple[str, ...] = READ_ONLY

    def load(self, data: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        read_only = {k: ["Read-only field."] for k in self.read_only_fields if isinstance(data, dict) and k in data}
        if read_only:
            data = {k: v for k, v in data.items() if k not in read_only}
        try:
            loaded = super().load(data, **kwargs)
        except ValidationError as err:
            messages = err.normalized_messages()
            raise ValidationError({**messages, **read_only} if isinstance(messages, dict) else messages) from None
        if read_only:
            raise ValidationError(read_only)
        return loaded


# --------------------------------------------------------------------------- surveys

class SurveyTextsSchema(Schema):
    question = fields.String(required=True, validate=validate.Length(min=1, max=500))
    low_label = fields.String(allow_none=True, validate=validate.Length(max=100))
    high_label = fields.String(allow_none=True, validate=validate.Length(max=100))
    labels = fields.List(fields.String(validate=validate.Length(max=100)), allow_none=True,
                         validate=validate.Length(max=11))
    followup = fields.String(allow_none=True, validate=validate.Length(max=500))
    thanks = fields.String(allow_none=True, validate=validate.Length(max=200))


class SurveySchema(_Refuse):
    site_id = id_field(strict=True, load_default=None)
    slug = slug_field()
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
    # Write-only: sets the texts of the five built-in languages to one of CSAT's wordings (other
    # locales keep theirs), on a PATCH as on a POST.
    label_preset = fields.String(load_only=True, validate=validate.OneOf(sorted(CSAT_PRESETS)))

    @validates_schema
    def _preset_for_csat(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("label_preset") and data.get("metric") != "csat5":
            raise ValidationError("Label presets are for csat5 surveys.", "label_preset")

    @post_load
    def _apply_preset(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        preset = data.pop("label_preset", None)
        if preset:
            data["texts"] = {**(data.get("texts") or {}), **all_languages("csat5", preset)}
        return data

    @validates_schema
    def _followup_in_scale(self, data: dict[str, Any], **kwargs: Any) -> None:
        metric = METRICS.get(data.get("metric", ""))
        score = data.get("followup_max_score")
        if metric is not None and score is not None and not metric.in_scale(score):
            raise ValidationError(f"Must be within the {metric.key} scale ({metric.min}-{metric.max}).",
                                  "followup_max_score")


# --------------------------------------------------------------------------- triggers

class VariantSchema(Schema):
    survey_id = id_field(strict=True, required=True)
    weight = StrictNumber(required=True, validate=validate.Range(min=0, max=100))
    # Stored on each prompt (`prompts.variant`) for the reports' variant filter; default: the survey id.
    label = fields.String(validate=validate.Length(min=1, max=64))


def _weights(variants: Any) -> None:
    if variants and not math.isclose(sum(v["weight"] for v in variants), 100.0, abs_tol=1e-6):
        raise ValidationError("Variant weights must sum to 100.")


class TriggerSchema(_Refuse):
    site_id = id_field(strict=True, load_default=None)
    slug = slug_field()
    name = fields.String(load_default="", validate=validate.Length(max=200))
    event_name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    survey_id = id_field(strict=True, required=True)
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
    # Occurrence conditions (core/occurrences.py), checked against event_name below.
    occurrences = fields.Raw(load_default=list, allow_none=True)
    # Events that call off this trigger's pending delayed prompt for the same user.
    cancel_events = fields.List(fields.String(validate=validate.Length(min=1, max=128)), load_default=list,
                                validate=validate.Length(max=20))
    cancel_same_transaction = fields.Boolean(load_default=False, truthy={True}, falsy={False})

    @validates_schema
    def _occurrences_and_cancels(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        found = occurrences.validate(data.get("occurrences"), data.get("event_name"))
        if found:
            errors["occurrences"] = found
        own = data.get("event_name")
        if own is not None and own in (data.get("cancel_events") or ()):
            errors["cancel_events"] = [f"A trigger cannot be cancelled by its own event {own!r}."]
        if data.get("cancel_same_transaction") and not data.get("transaction_key"):
            errors["cancel_same_transaction"] = ["Needs a transaction_key: the transaction to match."]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _defaults(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["occurrences"] = data.get("occurrences") or []
        return data


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
    site = id_field(load_default=None)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID))
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


class TriggerListQuerySchema(ListQuerySchema):
    event_name = fields.String(load_default=None)
    survey_id = id_field(load_default=None)


class DecisionsQuerySchema(Schema):
    site = id_field(load_default=None)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
