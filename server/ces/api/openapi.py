"""The API as a contract: an OpenAPI 3 document generated from the marshmallow schemas, at
`/api/openapi.json`, and a browsable page of it at `/api/docs` (Swagger UI, served from here).

apispec with its marshmallow plugin, rather than flask-smorest: the endpoints stay the plain
Flask views they are (their own validation, errors and auth), and this file says, per endpoint,
which schemas describe it. The document is built from the app's URL map, so a route is in it
exactly when it is served; `tests/live/test_openapi.py` fails for a route this table forgets.
"""
from __future__ import annotations

import json
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Blueprint, Flask, Response, current_app
from marshmallow import Schema
from werkzeug.routing import IntegerConverter

from . import admin_schemas as A
from . import fatigue_diagnostic as FD
from . import openapi_schemas as O
from . import schemas as E
from . import site_schemas as S
from . import theme_schemas as T
from .errors import not_found
from .themes import ContactedBodySchema, MergeBodySchema, ThemeBodySchema
from .webhooks import WebhookSchema

API_VERSION = "1"
MAX_ID = A.MAX_ID
SWAGGER_UI = Path(__file__).resolve().parents[3] / "apidocs" / "node_modules" / "swagger-ui-dist"
SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")

bp = Blueprint("openapi", __name__)


class SqliteInt(IntegerConverter):
    """`<int:…>` in URLs: 0 to 2^63-1 (SQLite's integers); a larger number is a 404, not an overflow.

    At most 19 digits in the pattern itself: a longer number then matches no rule at all. Refused
    only by `to_python`, werkzeug would answer 405 when another method's rule shares the path."""

    regex = r"\d{1,19}"

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


@dataclass(frozen=True)
class Op:
    summary: str
    auth: str = "admin"                      # admin | site | site_or_admin
    tag: str = ""
    query: type[Schema] | None = None
    body: type[Schema] | Schema | None = None
    body_required: bool = True
    ok: int = 200
    answer: type[Schema] | None = None       # None with ok=204: no body
    media: str = "application/json"
    errors: tuple[int, ...] = ()
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


_WRITE = (400, 413, 415)
_SURVEY_BODY = A.SurveySchema
_PATCH = "PATCH sends only the fields to change; the result is validated as a whole."
_PUT = "PUT replaces: fields left out take their defaults (the slug stays)."

# Per endpoint (Flask's endpoint name): what the document says of it.
OPERATIONS: dict[str, Op] = {
    "events.post_events": Op("Send events (one, or a batch of up to 1,000)", "site", "events",
                             query=E.DryRunSchema, body=E.EventSchema, answer=O.EventsAnswerSchema, errors=_WRITE,
                             description="A body of one event, or `{\"events\": [...]}`; `?dry_run=true` decides "
                                         "and records nothing; `?explain=true` adds to each result a `headline` "
                                         "in words and `tried`, every trigger tried with its own outcome.",
                             extra={"body_any_of": E.EventBatchSchema}),
    "events.post_identify": Op("Store users' traits (merged)", "site", "events", body=E.IdentifySchema,
                               answer=O.IdentifyAnswerSchema, errors=_WRITE,
                               extra={"body_any_of": E.IdentifyBatchSchema}),
    "surveys.survey_score": Op("A survey's score", "site_or_admin", "reports", answer=O.SurveyScoreSchema,
                               errors=(404,)),
    # surveys
    "admin.list_surveys": Op("List surveys", tag="surveys", query=A.ListQuerySchema, answer=O.SurveyListSchema,
                             errors=(400,)),
    "admin.create_survey": Op("Create a survey", tag="surveys", body=_SURVEY_BODY, ok=201, answer=O.SurveyOutSchema,
                              errors=_WRITE),
    "admin.get_survey": Op("Read a survey", tag="surveys", answer=O.SurveyOutSchema, errors=(404,)),
    "admin.patch_survey": Op("Change a survey", tag="surveys", body=A.SurveySchema(partial=True),
                             answer=O.SurveyOutSchema, errors=(*_WRITE, 404), description=_PATCH),
    "admin.put_survey": Op("Replace a survey", tag="surveys", body=_SURVEY_BODY, answer=O.SurveyOutSchema,
                           errors=(*_WRITE, 404), description=_PUT),
    "admin.delete_survey": Op("Delete a survey (409 while in use: pause it instead)", tag="surveys", ok=204,
                              errors=(404, 409)),
    "admin.pause_survey": Op("Pause a survey", tag="surveys", answer=O.SurveyOutSchema, errors=(404,)),
    "admin.resume_survey": Op("Resume a survey", tag="surveys", answer=O.SurveyOutSchema, errors=(404,)),
    # triggers
    "admin.list_triggers": Op("List triggers", tag="triggers", query=A.TriggerListQuerySchema,
                              answer=O.TriggerListSchema, errors=(400,)),
    "admin.create_trigger": Op("Create a trigger", tag="triggers", body=A.TriggerSchema, ok=201,
                               answer=O.TriggerOutSchema, errors=_WRITE),
    "admin.get_trigger": Op("Read a trigger", tag="triggers", answer=O.TriggerOutSchema, errors=(404,)),
    "admin.patch_trigger": Op("Change a trigger", tag="triggers", body=A.TriggerSchema(partial=True),
                              answer=O.TriggerOutSchema, errors=(*_WRITE, 404), description=_PATCH),
    "admin.put_trigger": Op("Replace a trigger", tag="triggers", body=A.TriggerSchema, answer=O.TriggerOutSchema,
                            errors=(*_WRITE, 404), description=_PUT),
    "admin.delete_trigger": Op("Delete a trigger", tag="triggers", ok=204, errors=(404,)),
    "admin.pause_trigger": Op("Pause a trigger", tag="triggers", answer=O.TriggerOutSchema, errors=(404,)),
    "admin.resume_trigger": Op("Resume a trigger", tag="triggers", answer=O.TriggerOutSchema, errors=(404,)),
    "admin.user_decisions": Op("Why a user was or was not asked: their latest decisions", tag="decisions",
                               query=A.DecisionsQuerySchema, answer=O.DecisionListSchema, errors=(400, 404),
                               description="A user id holding a line break matches no path (404)."),
    # sites
    "sites.list_sites": Op("List sites (a token of one site sees only it)", tag="sites",
                           query=A.ListQuerySchema(only=("limit", "offset")), answer=O.SiteListSchema, errors=(400,)),
    "sites.create_site": Op("Create a site (tokens of every site only); its secret key is shown once", tag="sites",
                            body=S.SiteSchema, ok=201, answer=O.SiteCreatedSchema, errors=_WRITE),
    "sites.get_site": Op("Read a site", tag="sites", answer=O.SiteOutSchema, errors=(404,)),
    "sites.patch_site": Op("Change a site: name, allowed origins, identity verification, time zone", tag="sites",
                           body=S.SiteSchema(partial=True), answer=O.SiteOutSchema, errors=(*_WRITE, 404),
                           description="Applies to the next event and the next socket message."),
    "sites.rotate_secret": Op("Issue a new secret key; the old one works for the grace period", tag="sites",
                              body=S.RotateSchema, body_required=False, answer=O.SiteRotatedSchema,
                              errors=(*_WRITE, 404)),
    "sites.get_fatigue": Op("A site's fatigue policy", tag="sites", answer=O.FatiguePolicyDocSchema, errors=(404,)),
    "sites.put_fatigue": Op("Replace a site's fatigue policy (keys left out: defaults)", tag="sites",
                            body=O.FatiguePolicyDocSchema, answer=O.FatiguePolicyDocSchema, errors=(*_WRITE, 404)),
    "fatigue_diagnostic.get_diagnostic": Op(
        "Fatigue diagnostic: users prompted by 2+ surveys within 24 h, and the colliding survey pairs",
        tag="sites", query=FD.DiagnosticQuerySchema, answer=O.FatigueDiagnosticSchema, errors=(400, 404),
        description="A prompt's time is when it was shown, else when it was created; cancelled prompts "
                    "never reached anyone and do not count."),
    # reports
    "reports.survey_report": Op("A survey's report: score, funnel, trend, touchpoints, drivers", tag="reports",
                                query=O.ReportParamsDoc, answer=O.ReportSchema, errors=(400, 404)),
    "reports.survey_compare": Op("Compare two periods or segments", tag="reports", query=O.CompareParamsDoc,
                                 answer=O.CompareSchema, errors=(400, 404)),
    "reports.survey_comments": Op("A survey's comments", tag="reports", query=O.ListParamsDoc,
                                  answer=O.CommentsSchema, errors=(400, 404)),
    "reports.survey_filters": Op("What a survey's report can be filtered by", tag="reports",
                                 answer=O.FilterOptionsSchema, errors=(400, 404)),
    "reports.survey_at_risk": Op("Customers whose latest answer was high effort", tag="reports",
                                 query=O.AtRiskParamsDoc, answer=O.AtRiskSchema, errors=(400, 404)),
    "reports.survey_export": Op("Export a survey's answers (CSV or JSON lines), streamed", tag="reports",
                                query=O.ExportParamsDoc, answer=None, media="text/csv", errors=(400, 404)),
    "reports.follow_up": Op("Mark an answer as followed up, or undo it", tag="reports", body=O.FollowUpBodySchema,
                            body_required=False, answer=O.FollowUpSchema, errors=(*_WRITE, 404)),
    # insights (docs/insights.md)
    "insights.survey_drivers": Op("What drives effort: every event property and user trait ranked, "
                                  "corrected for many tests", tag="reports", query=O.DriversParamsDoc,
                                  answer=O.DriversSchema, errors=(400, 404)),
    "insights.survey_fix_first": Op("Fix first: touchpoint × driver (× theme) items ranked by impact", tag="reports",
                                    query=O.FixFirstParamsDoc, answer=O.FixFirstSchema, errors=(400, 404)),
    "insights.survey_divergence": Op("Scores that diverge: this survey against another, per customer", tag="reports",
                                     query=O.DivergenceParamsDoc, answer=O.DivergenceSchema, errors=(400, 404)),
    "insights.survey_loyalty": Op("Effort against loyalty: promoters or a repeat event among low- and high-effort "
                                  "respondents", tag="reports", query=O.LoyaltyParamsDoc, answer=O.LoyaltySchema,
                                  errors=(400, 404)),
    "insights.get_alerts": Op("A site's alert (score.dropped) and digest settings, and what was sent lately",
                              tag="webhooks", answer=O.AlertsOutSchema, errors=(404,)),
    "insights.put_alerts": Op("Replace a site's alert and digest settings (keys left out: defaults)", tag="webhooks",
                              body=O.AlertSettingsDoc, answer=O.AlertsOutSchema, errors=(*_WRITE, 404)),
    "insights.run_alerts": Op("Check for score drops and send the digest when due, now", tag="webhooks",
                              answer=O.AlertsRunSchema, errors=(404,)),
    # webhooks
    "webhooks.create_webhook": Op("Create a webhook; its signing secret is in the answer", tag="webhooks",
                                  body=WebhookSchema, ok=201, answer=O.WebhookWithSecretSchema, errors=_WRITE),
    "webhooks.list_webhooks": Op("List webhooks", tag="webhooks", query=O.WebhookListQueryDoc,
                                 answer=O.WebhookListSchema, errors=(400,)),
    "webhooks.get_webhook": Op("Read a webhook (with its secret)", tag="webhooks", answer=O.WebhookWithSecretSchema,
                               errors=(404,)),
    "webhooks.delete_webhook": Op("Delete a webhook (its pending deliveries are cancelled)", tag="webhooks",
                                  answer=O.DeletedSchema, errors=(404,)),
    "webhooks.rotate_webhook_secret": Op("Issue a new signing secret; both sign during the grace period",
                                         tag="webhooks", body=S.RotateSchema, body_required=False,
                                         answer=O.WebhookWithSecretSchema, errors=(*_WRITE, 404)),
    "webhooks.list_deliveries": Op("A webhook's deliveries, newest first", tag="webhooks",
                                   query=O.DeliveriesQueryDoc, answer=O.DeliveriesSchema, errors=(400, 404)),
    "webhooks.replay_delivery": Op("Send a delivery again (same webhook-id)", tag="webhooks", ok=202,
                                   answer=O.ReplaySchema, errors=(404,)),
    "webhook_test.send_test": Op("Send a test event (`webhook.test`) to a webhook; see it in its deliveries",
                                 tag="webhooks", ok=202, answer=O.WebhookTestSchema, errors=(404,)),
    "activity.get_activity": Op("Widgets connected now and the latest answers of a site", tag="sites",
                                query=O.ActivityQueryDoc, answer=O.ActivitySchema, errors=(400, 404)),
    "site_limits.get_limits": Op("A site's rate limits: effective, the site's own, the server's default", tag="sites",
                                 answer=O.SiteLimitsOutSchema, errors=(404,)),
    "site_limits.put_limits": Op("Set a site's own rate limits (null: back to the default; others kept)", tag="sites",
                                 body=O.SiteLimitsBodyDoc, answer=O.SiteLimitsOutSchema, errors=(*_WRITE, 404)),
    # customers' data (docs/privacy.md)
    "users.erase_user": Op("Erase everything stored about one user (reports corrected, recorded by hash)",
                           tag="privacy", query=O.UserSiteQueryDoc, answer=O.ErasedSchema, errors=(400, 404)),
    "users.export_user": Op("Everything stored about one user, one JSON document", tag="privacy",
                            query=O.UserSiteQueryDoc, answer=O.UserExportSchema, errors=(400, 404)),
    "users.opt_out": Op("Never ask this user again on the site", "site_or_admin", "privacy",
                        query=O.UserSiteQueryDoc, answer=O.OptOutSchema, errors=(400, 404),
                        description="A user id holding a line break matches no path (404)."),
    "users.undo_opt_out": Op("The user may be asked again", "site_or_admin", "privacy", query=O.UserSiteQueryDoc,
                             answer=O.OptOutSchema, errors=(400, 404)),
    "users.list_erasures": Op("The erasure records (who, when, the user id hashed)", tag="privacy",
                              query=O.UserPageQueryDoc, answer=O.ErasureListSchema, errors=(400,)),
    "retention.get_retention": Op("A site's retention policy", tag="privacy", answer=O.RetentionPolicyDoc,
                                  errors=(404,)),
    "retention.put_retention": Op("Replace a site's retention policy (keys left out: defaults)", tag="privacy",
                                  body=O.RetentionPolicyDoc, answer=O.RetentionPolicyDoc, errors=(*_WRITE, 404)),
    "retention.run_retention": Op("Apply the site's retention policy now", tag="privacy",
                                  answer=O.RetentionRunSchema, errors=(404,)),
    "audit.list_audit": Op("Changes made through the admin API and the CLI, newest first (tokens of every site)",
                           tag="privacy", query=O.AuditQueryDoc, answer=O.AuditListSchema, errors=(400,)),
}

# themes (api/themes.py, docs/insights.md)
OPERATIONS.update({
    "themes.list_themes": Op("A site's themes: the starter ones as the site changed them, and its own", tag="themes",
                             answer=T.SiteThemesSchema, errors=(404,)),
    "themes.put_theme": Op("Rename, extend or turn off a theme; create or replace one of the site's own",
                           tag="themes", body=ThemeBodySchema, answer=T.SiteThemesSchema, errors=(*_WRITE, 404),
                           description="The next report themes the site's comments again."),
    "themes.merge_theme": Op("Merge a theme into another", tag="themes", body=MergeBodySchema,
                             answer=T.SiteThemesSchema, errors=(*_WRITE, 404)),
    "themes.unmerge_theme": Op("Undo a merge: the theme is its own again", tag="themes",
                               answer=T.SiteThemesSchema, errors=(400, 404, 409)),
    "themes.delete_theme": Op("Delete a theme of the site's own, or reset a starter theme", tag="themes",
                              answer=T.SiteThemesSchema, errors=(400, 404, 409)),
    "themes.check_growth": Op("Run the theme.grown check now for the site's surveys", tag="themes",
                              answer=T.GrowthCheckSchema, errors=(404,)),
    "themes.survey_themes": Op("A survey's themes: size, high-effort share, score, trend, comments", tag="themes",
                               query=T.ThemeReportParamsDoc, answer=T.ThemeReportSchema, errors=(400, 404)),
    "themes.survey_themed_comments": Op("A survey's comments with their themes", tag="themes",
                                        query=T.ThemedCommentsParamsDoc, answer=T.ThemedCommentsSchema,
                                        errors=(400, 404)),
    "themes.survey_customers": Op("Customers with a high-effort answer in a theme, at a touchpoint, ...",
                                  tag="themes", query=T.CustomersParamsDoc, answer=T.CustomersSchema,
                                  errors=(400, 404)),
    "themes.export_customers": Op("The same customers as CSV", tag="themes", query=T.CustomersExportParamsDoc,
                                  answer=None, media="text/csv", errors=(400, 404)),
    "themes.contacted": Op("Mark those customers contacted (followed up, as in the at-risk list), or undo it",
                           tag="themes", query=T.ContactedParamsDoc, body=ContactedBodySchema, body_required=False,
                           answer=T.ContactedSchema, errors=(*_WRITE, 404)),
})

# OpenAPI links: what a created object's id leads to (clients and schemathesis' stateful runs follow them).
LINKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "admin.create_survey": ("survey_id", ("admin.get_survey", "admin.patch_survey", "admin.put_survey",
                                          "admin.pause_survey", "admin.resume_survey", "admin.delete_survey",
                                          "surveys.survey_score", "reports.survey_report", "reports.survey_comments")),
    "admin.create_trigger": ("trigger_id", ("admin.get_trigger", "admin.patch_trigger", "admin.put_trigger",
                                            "admin.pause_trigger", "admin.resume_trigger", "admin.delete_trigger")),
    "sites.create_site": ("site_id", ("sites.get_site", "sites.patch_site", "sites.rotate_secret",
                                      "sites.get_fatigue", "sites.put_fatigue")),
    "webhooks.create_webhook": ("webhook_id", ("webhooks.get_webhook", "webhooks.list_deliveries",
                                               "webhooks.rotate_webhook_secret", "webhooks.delete_webhook")),
}


def operation_id(endpoint: str) -> str:
    return endpoint.replace(".", "_")


_TAGS = (("events", "From a site's backend, with its secret key."),
         ("surveys", "What is asked, in which words, with which quota."),
         ("triggers", "When to ask: an event, conditions, sampling, variants."),
         ("sites", "Sites, their origins, identity verification, time zone, secret key and fatigue policy."),
         ("decisions", "Why a user was or was not asked."),
         ("reports", "Scores, trends, drivers, comments, at-risk customers, export."),
         ("webhooks", "Signed notifications of answers."),
         ("privacy", "One person's data: erase, export, opt out; retention; the audit log."))
_TAGS += (("themes", "Themes of the comments; customers who share a problem."),)
_ERROR_TEXT = {400: "Invalid input: `fields` names each bad field.", 401: "No, an unknown or a revoked token.",
               403: "The token's scope does not allow this (read-only, or one site only).",
               404: "Unknown id (also: an object of a site the token does not reach).",
               409: "Conflict with what is stored.", 413: "Body over the size limit.",
               415: "A body not sent as application/json.",
               429: "Over a rate limit (docs/deployment.md, \"Limits\"): retry after the `Retry-After` header's seconds."}
_SECURITY = {"admin": [{"adminToken": []}], "site": [{"siteSecretKey": []}],
             "site_or_admin": [{"siteSecretKey": []}, {"adminToken": []}]}


def _operation(endpoint: str, op: Op, path_params: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": operation_id(endpoint), "summary": op.summary, "tags": [op.tag or "events"],
                           "security": _SECURITY[op.auth]}
    if op.description:
        out["description"] = op.description
    params: list[dict[str, Any]] = list(path_params)
    if op.query is not None:
        params.append({"in": "query", "schema": op.query})
    if params:
        out["parameters"] = params
    if op.body is not None:
        body_schema: Any = op.body
        if op.extra.get("body_any_of"):
            body_schema = {"oneOf": [op.body, op.extra["body_any_of"]]}
        out["requestBody"] = {"required": op.body_required, "content": {"application/json": {"schema": body_schema}}}
    responses: dict[Any, Any] = {}
    if op.ok == 204:
        responses["204"] = {"description": "Done; no body."}
    elif op.answer is None:
        responses[str(op.ok)] = {"description": "The file, streamed.",
                                 "content": {"text/csv": {"schema": {"type": "string"}},
                                             "application/x-ndjson": {"schema": {"type": "string"}}}}
    else:
        responses[str(op.ok)] = {"description": "OK", "content": {"application/json": {"schema": op.answer}}}
        if endpoint in LINKS:
            param, targets = LINKS[endpoint]
            responses[str(op.ok)]["links"] = {
                operation_id(t): {"operationId": operation_id(t), "parameters": {param: "$response.body#/id"}}
                for t in targets}
    # 429 everywhere: failed authentications are limited per address on every route.
    for status in sorted({401, 429, *((403,) if op.auth != "site" else ()), *op.errors}):
        responses[str(status)] = {"$ref": f"#/components/responses/E{status}"}
    out["responses"] = responses
    return out


def _schema_name(schema: Any) -> str:
    """`SurveySchema` → `Survey`; the same schema loaded partially (PATCH) → `SurveyPatch`."""
    name = resolve_schema_cls(schema).__name__.removesuffix("Schema")
    if isinstance(schema, Schema) and schema.partial:
        name += "Patch"
    return name


_ARG = re.compile(r"<(?:([a-z]+):)?([a-z_]+)>")  # a werkzeug rule's <converter:name>


def build(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of `app`'s routes under /api/v1."""
    plugin = MarshmallowPlugin(schema_name_resolver=_schema_name)
    spec = APISpec(title="ces: in-app Customer Effort Score", version=API_VERSION, openapi_version="3.0.3",
                   plugins=[plugin],
                   info={"description": "Events from a site's backend (secret key); surveys, triggers, sites, "
                                        "reports, webhooks, people's data and the audit log (admin token). Every "
                                        "refusal is a 4xx with one JSON shape, `Error`; too many requests, a 429 "
                                        "with `Retry-After`. Token scopes: docs/api.md."})
    spec.components.security_scheme("adminToken", {"type": "http", "scheme": "bearer",
                                                   "description": "`ces token create NAME [--site KEY] [--read-only]`"})
    spec.components.security_scheme("siteSecretKey", {"type": "http", "scheme": "bearer",
                                                      "description": "The site's secret key (keep it on your backend)."})
    for name, text in _TAGS:
        spec.tag({"name": name, "description": text})
    # The project's own fields, as the JSON types they accept.
    plugin.map_to_openapi_type(A.StrictNumber, "number", None)
    plugin.map_to_openapi_type(A.Checked, "object", None)
    spec.components.schema("Error", schema=O.ErrorSchema)
    for status, text in _ERROR_TEXT.items():
        spec.components.response(f"E{status}", {"description": text,
                                                "content": {"application/json": {"schema": "Error"}}})
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1/"):
            continue
        op = OPERATIONS.get(rule.endpoint)
        if op is None:
            continue  # the URL-map test names it
        path, path_params = openapi_path(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule.endpoint, op, path_params)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def openapi_path(rule: Any) -> tuple[str, list[dict[str, Any]]]:
    """`/api/v1/surveys/<int:survey_id>` → `/api/v1/surveys/{survey_id}` and its path parameters."""
    params = []
    for converter, name in _ARG.findall(rule.rule):
        schema = ({"type": "integer", "minimum": 0, "maximum": MAX_ID} if converter == "int"
                  else {"type": "string", "minLength": 1})
        params.append({"in": "path", "name": name, "required": True, "schema": schema})
    return _ARG.sub(lambda m: "{" + m.group(2) + "}", rule.rule), params


@bp.get("/api/openapi.json")
def document():
    doc = current_app.extensions.get("ces_openapi")
    if doc is None:
        doc = current_app.extensions["ces_openapi"] = json.dumps(build(current_app))
    return Response(doc, mimetype="application/json")


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ces API</title>
<link rel="icon" href="/api/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script></body></html>
"""
_INIT = """window.ui = SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
  persistAuthorization: false, tryItOutEnabled: false});
"""


@bp.get("/api/docs")
def docs_page():
    if not (SWAGGER_UI / "swagger-ui-bundle.js").exists():
        return Response("The API docs page needs its assets: run `bash .ci/setup` (installs swagger-ui-dist "
                        "from npm). The document itself is at /api/openapi.json.\n", status=503, mimetype="text/plain")
    return Response(_PAGE, mimetype="text/html", headers={
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'"})


@bp.get("/api/docs/init.js")
def docs_init():
    return Response(_INIT, mimetype="text/javascript")


@bp.get("/api/docs/assets/<name>")
def docs_asset(name: str):
    if name not in SWAGGER_FILES or not (SWAGGER_UI / name).exists():
        raise not_found("asset", name)
    response = Response((SWAGGER_UI / name).read_bytes(), mimetype=mimetypes.guess_type(name)[0])
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
