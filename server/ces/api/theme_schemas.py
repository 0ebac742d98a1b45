"""Marshmallow schemas that only describe the themes' endpoints (api/themes.py) for the OpenAPI
document (openapi.py): what they answer and the query strings the report filters parse."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from .openapi_schemas import _NUM, ReportQueryDoc, _nullable


class ThemeOutSchema(Schema):
    key = fields.String(required=True)
    label = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("starter", "custom")))
    merged_from = fields.List(fields.String(), required=True)
    added_terms = fields.List(fields.String(), required=True)
    terms = fields.List(fields.String(), required=True)


class SiteThemesSchema(Schema):
    site_id = fields.Integer(required=True)
    version = fields.String(required=True, metadata={"description": "Changes with any change of the themes."})
    themes = fields.List(fields.Nested(ThemeOutSchema), required=True)
    off = fields.List(fields.String(), required=True)
    settings = fields.Dict(required=True, metadata={"description": "The site's own changes, as stored."})


class ThemeReportParamsDoc(ReportQueryDoc):
    interval = fields.String(validate=validate.OneOf(("day", "week", "month")))
    high_effort_max = fields.Integer(validate=validate.Range(min=-1_000_000, max=1_000_000))


class CustomersParamsDoc(ReportQueryDoc):
    theme = fields.String(metadata={"description": "A theme key (GET /sites/{id}/themes) or a discovered one "
                                                   "(`found-…`); none: any high-effort answer."})
    high_effort_max = fields.Integer(validate=validate.Range(min=-1_000_000, max=1_000_000))
    followed_up = fields.String(validate=validate.OneOf(("true", "false", "any")))
    page = fields.Integer(validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(validate=validate.Range(min=1, max=200))


class CustomersExportParamsDoc(ReportQueryDoc):
    theme = fields.String()
    high_effort_max = fields.Integer(validate=validate.Range(min=-1_000_000, max=1_000_000))
    followed_up = fields.String(validate=validate.OneOf(("true", "false", "any")))


class ContactedParamsDoc(ReportQueryDoc):
    theme = fields.String()
    high_effort_max = fields.Integer(validate=validate.Range(min=-1_000_000, max=1_000_000))


class ThemeSectionSchema(Schema):
    key = fields.String(required=True)
    label = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("starter", "custom", "discovered")))
    comments = fields.Integer(required=True)
    share_of_comments = _nullable(_NUM(required=True))
    high_effort = fields.Integer(required=True)
    high_effort_share = fields.Dict(required=True, metadata={"description": "share (%) and its 95 % Wilson ci."})
    score = fields.Dict(required=True, metadata={"description": "The theme's score, as a survey's (Score)."})
    trend = fields.Dict(required=True)
    representative = fields.List(fields.Dict(), required=True)
    suggested_terms = fields.List(fields.String())


class ThemeReportSchema(Schema):
    survey_id = fields.Integer(required=True)
    metric = fields.String(required=True)
    headline_name = fields.String(required=True)
    filters = fields.Dict(required=True)
    version = fields.String(required=True)
    high_effort_max = fields.Integer(required=True)
    comments = fields.Integer(required=True)
    themed = fields.Integer(required=True)
    unthemed = fields.Integer(required=True)
    themes = fields.List(fields.Nested(ThemeSectionSchema), required=True)
    discovered = fields.List(fields.Nested(ThemeSectionSchema), required=True)


class CustomersSchema(Schema):
    survey_id = fields.Integer(required=True)
    theme = _nullable(fields.String(required=True))
    filters = fields.Dict(required=True)
    high_effort_max = fields.Integer(required=True)
    followed_up = fields.String(required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total = fields.Integer(required=True)
    customers = fields.List(fields.Dict(), required=True)


class ContactedSchema(Schema):
    survey_id = fields.Integer(required=True)
    theme = _nullable(fields.String(required=True))
    contacted = fields.Boolean(required=True)
    customers = fields.Integer(required=True)
    answers = fields.Integer(required=True)
    user_ids = fields.List(fields.String(), required=True)
    unknown_user_ids = fields.List(fields.String(), required=True)


class GrowthCheckSchema(Schema):
    site_id = fields.Integer(required=True)
    alerts = fields.List(fields.Dict(), required=True, metadata={"description": "The theme.grown alerts queued."})


class ThemedCommentsParamsDoc(ReportQueryDoc):
    theme = fields.String()
    page = fields.Integer(validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(validate=validate.Range(min=1, max=200))


class ThemedCommentsSchema(Schema):
    survey_id = fields.Integer(required=True)
    theme = _nullable(fields.String(required=True))
    filters = fields.Dict(required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total = fields.Integer(required=True)
    comments = fields.List(fields.Dict(), required=True)
