"""Marshmallow schemas that only describe: what the endpoints answer, and the query strings that
are parsed by the pure core (reports) rather than by a schema. The OpenAPI document is generated
from these and from the schemas the endpoints validate with (`openapi.py`); schemathesis checks
in the suite that every answer matches them.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from .. import webhooks
from ..core.metrics import METRICS
from ..rate_limits import SITE_RULES
from .admin_schemas import MAX_ID, STATUSES

_NUM = fields.Float
_ISO = fields.String  # ISO 8601 UTC, e.g. 2026-11-23T09:18:28.741Z


def _nullable(field: fields.Field) -> fields.Field:
    field.allow_none = True
    return field


# --------------------------------------------------------------------------- errors

class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"description": "Machine-readable: validation_error, bad_json, "
                                                                "unauthorized, forbidden, not_found, conflict, "
                                                                "method_not_allowed, too_large, unsupported_media_type"})
    message = fields.String(required=True, metadata={"description": "For people."})
    fields_ = fields.Dict(data_key="fields", metadata={"description": "The path to each bad field and what is "
                                                                      "wrong with it (marshmallow's messages)."})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


# --------------------------------------------------------------------------- events

class EventResultSchema(Schema):
    event_id = fields.String(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(("prompt", "skip")))
    reason = fields.String(required=True)
    detail = _nullable(fields.String(required=True))
    prompt_id = _nullable(fields.String(required=True))
    cancelled = fields.List(fields.String(), metadata={"description": "Delayed prompts this event called off."})
    # With ?explain=true:
    headline = fields.String(metadata={"description": "explain=true: the decision in words, e.g. \"Would not be "
                                                      "asked: the user is not in the trigger's sample.\""})
    trigger_id = _nullable(fields.Integer())
    survey_id = _nullable(fields.Integer())
    tried = fields.List(fields.Nested(lambda: TriedTriggerSchema()),
                        metadata={"description": "explain=true: every trigger tried, in arbitration order, "
                                                 "with its own outcome."})


class TriedTriggerSchema(Schema):
    trigger_id = _nullable(fields.Integer(required=True))
    survey_id = _nullable(fields.Integer(required=True))
    decision = fields.String(required=True, validate=validate.OneOf(("prompt", "skip")))
    reason = fields.String(required=True)
    title = fields.String(required=True)
    detail = fields.String(required=True)


class EventsAnswerSchema(Schema):
    results = fields.List(fields.Nested(EventResultSchema), required=True)
    dry_run = fields.Boolean(required=True, metadata={"description": "true: decided, nothing recorded."})


class IdentifyAnswerSchema(Schema):
    users = fields.Integer(required=True)


class IntervalSchema(Schema):
    low = _nullable(_NUM(required=True))
    high = _nullable(_NUM(required=True))


class ScoreSchema(Schema):
    metric = fields.String(required=True, validate=validate.OneOf(sorted(METRICS)))
    n = fields.Integer(required=True)
    mean = _nullable(_NUM(required=True))
    mean_ci = _nullable(fields.Nested(IntervalSchema, required=True))
    headline_name = fields.String(required=True)
    headline = _nullable(_NUM(required=True))
    headline_ci = _nullable(fields.Nested(IntervalSchema, required=True))
    distribution = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    low_sample = fields.Boolean(required=True)


class SurveyScoreSchema(ScoreSchema):
    survey_id = fields.Integer(required=True)


# --------------------------------------------------------------------------- surveys, triggers

class QuotaSchema(Schema):
    max_answers_per_day = _nullable(fields.Integer(required=True))
    max_prompts_per_day = _nullable(fields.Integer(required=True))
    max_answers_total = _nullable(fields.Integer(required=True))
    max_prompts_total = _nullable(fields.Integer(required=True))


class SurveyOutSchema(Schema):
    id = fields.Integer(required=True)
    site_id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    metric = fields.String(required=True)
    default_locale = fields.String(required=True)
    texts = fields.Dict(keys=fields.String(), values=fields.Dict(), required=True)
    followup_max_score = _nullable(fields.Integer(required=True))
    appearance = fields.Dict(required=True)
    quota = fields.Nested(QuotaSchema, required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    created_at = _ISO(required=True)
    updated_at = _ISO(required=True)


class SurveyListSchema(Schema):
    items = fields.List(fields.Nested(SurveyOutSchema), required=True)
    total = fields.Integer(required=True)


class VariantOutSchema(Schema):
    survey_id = fields.Integer(required=True)
    weight = _NUM(required=True)
    label = fields.String()


class TriggerOutSchema(Schema):
    id = fields.Integer(required=True)
    site_id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    event_name = fields.String(required=True)
    survey_id = fields.Integer(required=True)
    conditions = _nullable(fields.Dict(required=True))
    source = fields.String(required=True, validate=validate.OneOf(("backend", "any")))
    sample_rate = _NUM(required=True)
    variants = fields.List(fields.Nested(VariantOutSchema), required=True)
    delay_seconds = fields.Integer(required=True)
    ttl_seconds = fields.Integer(required=True)
    transaction_key = _nullable(fields.String(required=True))
    priority = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    occurrences = fields.List(fields.Dict(), required=True, metadata={
        "description": "Occurrence conditions: the Nth time, or at least N times in D days (docs/decisions.md)."})
    cancel_events = fields.List(fields.String(), required=True, metadata={
        "description": "Events that call off this trigger's pending delayed prompt for the same user."})
    cancel_same_transaction = fields.Boolean(required=True)
    created_at = _ISO(required=True)
    updated_at = _ISO(required=True)


class TriggerListSchema(Schema):
    items = fields.List(fields.Nested(TriggerOutSchema), required=True)
    total = fields.Integer(required=True)


# --------------------------------------------------------------------------- sites

class CollidingPairSchema(Schema):
    survey_a = fields.Integer(required=True)
    survey_a_name = _nullable(fields.String(required=True))
    survey_b = fields.Integer(required=True)
    survey_b_name = _nullable(fields.String(required=True))
    users = fields.Integer(required=True, metadata={"description": "Users prompted by both within the window."})


class FatigueDiagnosticSchema(Schema):
    site_id = fields.Integer(required=True)
    from_ = fields.String(required=True, data_key="from", metadata={"description": "First day (site's time zone)."})
    to = fields.String(required=True, metadata={"description": "Last day, included."})
    time_zone = fields.String(required=True)
    window_hours = fields.Integer(required=True)
    users_prompted = fields.Integer(required=True, metadata={"description": "Users with a prompt in the period."})
    users_colliding = fields.Integer(required=True,
                                     metadata={"description": "Users prompted by 2+ surveys within the window."})
    colliding_share = _nullable(_NUM(required=True))
    pairs = fields.List(fields.Nested(CollidingPairSchema), required=True)


class FatiguePolicyDocSchema(Schema):
    """The site's fatigue policy (docs/decisions.md): durations are integer seconds or null."""

    recontact_wait = _nullable(fields.Integer())
    type_wait = _nullable(fields.Integer())
    survey_wait = _nullable(fields.Integer())
    max_prompts = _nullable(fields.Integer())
    max_prompts_window = _nullable(fields.Integer())
    one_open = fields.Boolean()
    count_answered = fields.Boolean()
    count_dismissed = fields.Boolean()
    count_expired = fields.Boolean()
    max_prompts_per_visit = _nullable(fields.Integer(metadata={"description": "At most this many prompts in one visit."}))
    min_visit_seconds = _nullable(fields.Integer(metadata={"description": "No prompt in a visit's first S seconds."}))


class SiteOutSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    site_key = fields.String(required=True)
    identity_verification = fields.Boolean(required=True, metadata={
        "description": "false: any page can claim any user id; turn it on and sign ids (docs/widget.md)."})
    allowed_origins = fields.List(fields.String(), required=True)
    time_zone = fields.String(required=True)
    fatigue = fields.Nested(FatiguePolicyDocSchema, required=True)
    created_at = _nullable(_ISO(required=True))
    previous_secret_expires_at = _nullable(_ISO(required=True, metadata={
        "description": "Until when the secret key replaced by the last rotation still works; null: it does not."}))


class SiteCreatedSchema(SiteOutSchema):
    secret_key = fields.String(required=True, metadata={"description": "Shown only now and on rotation."})


class SiteListSchema(Schema):
    items = fields.List(fields.Nested(SiteOutSchema), required=True)
    total = fields.Integer(required=True)


class SiteRotatedSchema(Schema):
    site_id = fields.Integer(required=True)
    secret_key = fields.String(required=True)
    previous_secret_expires_at = _nullable(_ISO(required=True))


# --------------------------------------------------------------------------- decisions

class DecisionSchema(Schema):
    event_id = fields.String(required=True)
    name = fields.String(required=True)
    source = fields.String(required=True)
    timestamp = _nullable(_ISO(required=True))
    received_at = _nullable(_ISO(required=True))
    decision = fields.String(required=True)
    reason = _nullable(fields.String(required=True))
    detail = _nullable(fields.String(required=True))
    trigger_id = _nullable(fields.Integer(required=True))
    prompt_id = _nullable(fields.String(required=True))
    properties = _nullable(fields.Dict(required=True))


class DecisionListSchema(Schema):
    user_id = fields.String(required=True)
    site_id = fields.Integer(required=True)
    items = fields.List(fields.Nested(DecisionSchema), required=True)
    total = fields.Integer(required=True)


# --------------------------------------------------------------------------- reports

class ReportQueryDoc(Schema):
    """Report filters (core/report_filters.py); also `properties.<key>[<op>]=<value>` (docs/reports.md)."""

    from_ = fields.String(data_key="from", metadata={"description": "ISO date or date-time, inclusive."})
    to = fields.String(metadata={"description": "ISO date (that whole day) or date-time (exclusive)."})
    trigger = fields.String(metadata={"description": "Trigger id, or ids separated by commas."},
                            validate=validate.Regexp(r"^[0-9]{1,18}(,[0-9]{1,18})*$"))
    variant = fields.String(validate=validate.Length(min=1, max=64))
    locale = fields.String(validate=validate.Length(min=1, max=64))


class ReportParamsDoc(ReportQueryDoc):
    interval = fields.String(validate=validate.OneOf(("day", "week", "month")))
    driver = fields.String(metadata={"description": "Event property to rank as an effort driver."})
    buckets = fields.String(metadata={"description": "Ascending lower bounds, comma-separated."})


class ListParamsDoc(ReportQueryDoc):
    q = fields.String(validate=validate.Length(max=200))
    score = fields.String(metadata={"description": "Only comments with this score, or one of these scores "
                                                   "separated by commas (on the survey's scale)."},
                          validate=validate.Regexp(r"^-?[0-9]{1,7}(,-?[0-9]{1,7})*$"))
    page = fields.Integer(validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(validate=validate.Range(min=1, max=200))


class AtRiskParamsDoc(ReportQueryDoc):
    page = fields.Integer(validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(validate=validate.Range(min=1, max=200))
    high_effort_max = fields.Integer(validate=validate.Range(min=-1_000_000, max=1_000_000))
    followed_up = fields.String(validate=validate.OneOf(("true", "false", "any")))


class ExportParamsDoc(ReportQueryDoc):
    format = fields.String(validate=validate.OneOf(("csv", "jsonl")))


class CompareParamsDoc(ReportQueryDoc):
    """Each filter also as `a.<filter>` and `b.<filter>` for one side only (at least one is needed)."""

    a_from = fields.String(data_key="a.from")
    a_to = fields.String(data_key="a.to")
    b_from = fields.String(data_key="b.from")
    b_to = fields.String(data_key="b.to")


class ReportSchema(Schema):
    survey_id = fields.Integer(required=True)
    metric = fields.String(required=True)
    headline_name = fields.String(required=True)
    filters = fields.Dict(required=True)
    source = fields.String(required=True, validate=validate.OneOf(("rollup", "columns", "base")))
    score = fields.Dict(required=True)
    funnel = fields.Dict(required=True)
    over_time = fields.Dict(required=True)
    by_touchpoint = fields.List(fields.Dict(), required=True)
    drivers = _nullable(fields.Dict(required=True))
    meta = fields.Dict(required=True)  # {"answer_props": {"caught_up", "answers_behind"}}: the background copy


class CompareSchema(Schema):
    survey_id = fields.Integer(required=True)
    metric = fields.String(required=True)
    a = fields.Dict(required=True)
    b = fields.Dict(required=True)
    difference = fields.Dict(required=True)


class CommentsSchema(Schema):
    survey_id = fields.Integer(required=True)
    q = _nullable(fields.String(required=True))
    score = _nullable(fields.List(fields.Integer(), required=True))
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total = fields.Integer(required=True)
    comments = fields.List(fields.Dict(), required=True)


class ReportTriggerSchema(Schema):
    id = fields.Integer(required=True)
    name = _nullable(fields.String(required=True))
    event_name = fields.String(required=True)


class FilterOptionsSchema(Schema):
    survey_id = fields.Integer(required=True)
    metric = fields.String(required=True)
    headline_name = fields.String(required=True)
    scale = fields.Dict(required=True, metadata={"description": "{min, max}: the metric's scale."})
    high_effort_max = fields.Integer(required=True, metadata={"description": "The default at-risk threshold."})
    triggers = fields.List(fields.Nested(ReportTriggerSchema), required=True)
    locales = fields.List(fields.String(), required=True)
    variants = fields.List(fields.String(), required=True)
    properties = fields.List(fields.String(), required=True,
                             metadata={"description": "Top-level event property keys the answers carry."})
    intervals = fields.List(fields.String(), required=True)
    operators = fields.List(fields.String(), required=True)


class AtRiskSchema(Schema):
    survey_id = fields.Integer(required=True)
    high_effort_max = fields.Integer(required=True)
    followed_up = fields.String(required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total = fields.Integer(required=True)
    users = fields.List(fields.Dict(), required=True)


class FollowUpBodySchema(Schema):
    followed_up = fields.Boolean(load_default=True, metadata={"description": "false undoes the mark."})


class FollowUpSchema(Schema):
    answer_id = fields.Integer(required=True)
    user_id = fields.String(required=True)
    followed_up_at = _nullable(_ISO(required=True))


# --------------------------------------------------------------------------- webhooks

class WebhookOutSchema(Schema):
    id = fields.Integer(required=True)
    site_id = fields.Integer(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(validate=validate.OneOf(webhooks.EVENT_TYPES)), required=True)
    high_effort_max = _nullable(fields.Integer(required=True))
    description = _nullable(fields.String(required=True))
    created_at = _NUM(required=True, metadata={"description": "Unix time, seconds."})


class WebhookWithSecretSchema(WebhookOutSchema):
    secret = fields.String(required=True, metadata={"description": "whsec_…: verifies webhook-signature."})
    previous_secret_expires_at = _nullable(_NUM(required=True, metadata={
        "description": "Unix time until which the replaced secret also signs; null outside a rotation."}))


class WebhookListSchema(Schema):
    webhooks = fields.List(fields.Nested(WebhookOutSchema), required=True)


class WebhookListQueryDoc(Schema):
    site_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class DeliveriesQueryDoc(Schema):
    status = fields.String(validate=validate.OneOf(("pending", "succeeded", "failed", "cancelled")))
    page = fields.Integer(validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(validate=validate.Range(min=1, max=200))


class DeliverySchema(Schema):
    id = fields.Integer(required=True)
    webhook_id = fields.Integer(required=True)
    site_id = fields.Integer(required=True)
    event_type = fields.String(required=True)
    msg_id = fields.String(required=True)
    status = fields.String(required=True)
    attempts = fields.Integer(required=True)
    next_attempt_at = _NUM(required=True)
    last_status = _nullable(fields.Integer(required=True))
    last_error = _nullable(fields.String(required=True))
    replay_of = _nullable(fields.Integer(required=True))
    created_at = _NUM(required=True)
    updated_at = _NUM(required=True)
    delivered_at = _nullable(_NUM(required=True))


class DeliveriesSchema(Schema):
    webhook_id = fields.Integer(required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    deliveries = fields.List(fields.Nested(DeliverySchema), required=True)


class ReplaySchema(Schema):
    delivery_id = fields.Integer(required=True)
    replay_of = fields.Integer(required=True)
    status = fields.String(required=True)


class DeletedSchema(Schema):
    deleted = fields.Integer(required=True)


# -- customers' data (api/users.py, api/retention.py, api/audit.py; docs/privacy.md) ----------------------
class UserSiteQueryDoc(Schema):
    site = fields.Integer(metadata={"description": "The site (left out: the token's site, or the only one)."})


class UserPageQueryDoc(UserSiteQueryDoc):
    limit = fields.Integer(validate=validate.Range(min=1, max=500))
    offset = fields.Integer(validate=validate.Range(min=0))


class ErasedSchema(Schema):
    user_id = fields.String(required=True)
    site_id = fields.Integer(required=True)
    erased_at = fields.String(required=True)
    user_sha256 = fields.String(required=True)
    deleted = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                          metadata={"description": "Rows deleted, per kind."})


class UserExportSchema(Schema):
    """Everything stored about one user; docs/privacy.md describes every field."""
    format = fields.String(required=True)
    exported_at = fields.String(required=True)
    site = fields.Dict(required=True)
    user_id = fields.String(required=True)
    traits = fields.Dict(allow_none=True, required=True)
    traits_updated_at = fields.String(allow_none=True, required=True)
    opt_out = fields.Dict(allow_none=True, required=True)
    events = fields.List(fields.Dict(), required=True)
    prompts = fields.List(fields.Dict(), required=True)
    answers = fields.List(fields.Dict(), required=True)
    webhook_deliveries = fields.List(fields.Dict(), required=True)


class OptOutSchema(Schema):
    user_id = fields.String(required=True)
    site_id = fields.Integer(required=True)
    opted_out = fields.Boolean(required=True)
    opted_out_at = fields.String()
    already = fields.Boolean()
    prompts_closed = fields.Integer()


class ErasureSchema(Schema):
    id = fields.Integer(required=True)
    site_id = fields.Integer(required=True)
    user_sha256 = fields.String(required=True)
    actor = fields.String(required=True)
    created_at = fields.String(required=True)


class ErasureListSchema(Schema):
    items = fields.List(fields.Nested(ErasureSchema), required=True)
    total = fields.Integer(required=True)


class RetentionPolicyDoc(Schema):
    events_days = fields.Integer(validate=validate.Range(min=1, max=36600),
                                 metadata={"description": "Days events and decisions are kept (default 90)."})
    answers = fields.String(validate=validate.OneOf(("keep", "anonymise", "delete")),
                            metadata={"description": "What happens to answers older than answers_days."})
    answers_days = fields.Integer(validate=validate.Range(min=1, max=36600))


class RetentionRunSchema(Schema):
    site_id = fields.Integer(required=True)
    answers_anonymised = fields.Integer()
    answers_deleted = fields.Integer()
    events_deleted = fields.Integer(required=True)
    prompts_deleted = fields.Integer(required=True)
    traits_deleted = fields.Integer(required=True)
    webhook_deliveries_deleted = fields.Integer(required=True)


class AuditQueryDoc(Schema):
    limit = fields.Integer(validate=validate.Range(min=1, max=500))
    offset = fields.Integer(validate=validate.Range(min=0))
    action = fields.String(metadata={"description": "Entries whose action starts with this (e.g. survey.)."})
    target = fields.String()
    actor_kind = fields.String(validate=validate.OneOf(("token", "cli", "site")))
    since = fields.String(metadata={"description": "ISO 8601 with a zone."})
    until = fields.String(metadata={"description": "ISO 8601 with a zone."})


class AuditEntrySchema(Schema):
    id = fields.Integer(required=True)
    at = fields.String(required=True)
    actor = fields.Dict(required=True)
    action = fields.String(required=True)
    target = fields.String(allow_none=True)
    detail = fields.Raw(allow_none=True)


class AuditListSchema(Schema):
    items = fields.List(fields.Nested(AuditEntrySchema), required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)


# -- a site's rate limits (api/site_limits.py; docs/deployment.md "Limits") ------------------------------

_LIMIT_TEXT = "A limit: N/second|minute|hour|day, several joined by ';' (e.g. 60/minute;1000/day); null: the default."
SiteLimitsBodyDoc = Schema.from_dict(
    {name: fields.String(allow_none=True, metadata={"description": _LIMIT_TEXT}) for name in SITE_RULES},
    name="SiteLimitsBodyDoc")


class LimitValueSchema(Schema):
    effective = fields.String(required=True)
    site = fields.String(allow_none=True, required=True)
    default = fields.String(required=True)


SiteLimitsOutSchema = Schema.from_dict(
    {"site_id": fields.Integer(required=True),
     "limits": fields.Nested(Schema.from_dict({name: fields.Nested(LimitValueSchema, required=True)
                                               for name in SITE_RULES}, name="SiteLimitsValues"), required=True)},
    name="SiteLimitsOutSchema")


# -- activity and webhook tests (api/activity.py, api/webhook_test.py; docs/dashboard.md) ------------------
class ActivityQueryDoc(Schema):
    limit = fields.Integer(validate=validate.Range(min=1, max=50),
                           metadata={"description": "How many of the latest answers (default 10)."})


class ActivityAnswerSchema(Schema):
    id = fields.Integer(required=True)
    survey_id = fields.Integer(required=True)
    survey_name = fields.String(required=True)
    score = fields.Integer(required=True)
    scale_min = _nullable(fields.Integer(required=True))
    scale_max = _nullable(fields.Integer(required=True))
    comment = _nullable(fields.String(required=True))
    user_id = fields.String(required=True)
    created_at = _ISO(required=True, metadata={"description": "In the site's time zone."})


class ActivitySchema(Schema):
    site_id = fields.Integer(required=True)
    connected = fields.Integer(required=True, metadata={
        "description": "Widget sockets of the site open now that said who they are, on every server process "
        "sharing the database (the other processes' counts as of their last presence row, seconds old)."})
    answers = fields.List(fields.Nested(ActivityAnswerSchema), required=True,
                          metadata={"description": "Newest first."})


class WebhookTestSchema(Schema):
    delivery_id = fields.Integer(required=True)
    webhook_id = fields.Integer(required=True)
    event_type = fields.String(required=True, validate=validate.Equal("webhook.test"))
    status = fields.String(required=True)


# --------------------------------------------------------------------------- insights (docs/insights.md)

class DriversParamsDoc(ReportQueryDoc):
    """Also `properties.<key>[<op>]=<value>` filters, as the report."""

    min_n = fields.Integer(validate=validate.Range(min=2, max=1_000_000),
                           metadata={"description": "Fewest answers on each side for a value to be tested (30)."})
    fdr = fields.Float(validate=validate.Range(min=0, max=1, min_inclusive=False, max_inclusive=False),
                       metadata={"description": "False discovery rate of the Benjamini–Hochberg correction (0.05)."})


class FixFirstParamsDoc(DriversParamsDoc):
    limit = fields.Integer(validate=validate.Range(min=1, max=500), metadata={"description": "Items listed (50)."})


class DriversSchema(Schema):
    survey_id = fields.Integer(required=True)
    metric = fields.String(required=True)
    filters = fields.Dict(required=True)
    min_n = fields.Integer(required=True)
    fdr = _NUM(required=True)
    tests = fields.Integer(required=True, metadata={"description": "Values tested (the correction's m)."})
    properties = fields.List(fields.Dict(), required=True)


class FixFirstSchema(Schema):
    survey_id = fields.Integer(required=True)
    metric = fields.String(required=True)
    filters = fields.Dict(required=True)
    min_n = fields.Integer(required=True)
    fdr = _NUM(required=True)
    themes = fields.Boolean(required=True, metadata={"description": "Whether theme items are included."})
    total = fields.Integer(required=True)
    items = fields.List(fields.Dict(), required=True)


class TwoSurveysParamsDoc(Schema):
    from_ = fields.String(data_key="from", metadata={"description": "ISO date or date-time, inclusive."})
    to = fields.String(metadata={"description": "ISO date (that whole day) or date-time (exclusive)."})
    tz = fields.String(metadata={"description": "IANA time zone (default: the site's)."})


class DivergenceParamsDoc(TwoSurveysParamsDoc):
    with_ = fields.String(data_key="with", required=True,
                          metadata={"description": "The other survey's id (e.g. the NPS or CSAT survey)."})
    threshold = fields.Float(metadata={"description": "Gap between the two answers' places on their scales, "
                                                      "above 0 and at most 1, from which a customer is listed (0.5)."})


class LoyaltyParamsDoc(TwoSurveysParamsDoc):
    with_ = fields.String(data_key="with", metadata={"description": "An NPS (or other) survey: share of its "
                                                                    "positive answers. Or give `event`."})
    event = fields.String(metadata={"description": "An event name (a repeat purchase): share who sent it after "
                                                   "answering."})
    within_days = fields.Float(metadata={"description": "With `event`: within this many days (90)."})


class DivergenceSchema(Schema):
    survey_id = fields.Integer(required=True)
    metric = fields.String(required=True)
    with_ = fields.Dict(data_key="with", required=True)
    filters = fields.Dict(required=True)
    pairs = fields.Integer(required=True)
    cross_table = fields.Dict(required=True)
    pearson = _nullable(fields.Dict(required=True))
    spearman = _nullable(fields.Dict(required=True))
    threshold = _NUM(required=True)
    divergent_total = fields.Integer(required=True)
    divergent = fields.List(fields.Dict(), required=True)


class LoyaltySchema(Schema):
    survey_id = fields.Integer(required=True)
    metric = fields.String(required=True)
    filters = fields.Dict(required=True)
    measure = fields.Dict(required=True)
    respondents = fields.Integer(required=True)
    low_effort = fields.Dict(required=True)
    high_effort = fields.Dict(required=True)
    difference = _nullable(_NUM(required=True))
    difference_ci = _nullable(fields.Nested(IntervalSchema, required=True))
    significant = fields.Boolean(required=True)


class DropSettingsDoc(Schema):
    enabled = fields.Boolean()
    period_days = fields.Integer(validate=validate.Range(min=1, max=90))
    min_n = fields.Integer(validate=validate.Range(min=2, max=1_000_000))


class DigestSettingsDoc(Schema):
    frequency = fields.String(validate=validate.OneOf(("off", "daily", "weekly")))
    hour = fields.Integer(validate=validate.Range(min=0, max=23))
    weekday = fields.Integer(validate=validate.Range(min=1, max=7))
    top = fields.Integer(validate=validate.Range(min=1, max=10))


class AlertSettingsDoc(Schema):
    score_dropped = fields.Nested(DropSettingsDoc)
    digest = fields.Nested(DigestSettingsDoc)


class AlertsOutSchema(Schema):
    site_id = fields.Integer(required=True)
    score_dropped = fields.Nested(DropSettingsDoc, required=True)
    digest = fields.Nested(DigestSettingsDoc, required=True)
    recent = fields.List(fields.Dict(), required=True)


class AlertsRunSchema(Schema):
    site_id = fields.Integer(required=True)
    sent = fields.List(fields.Dict(), required=True)
