"""The Settings page of a site: keys (with rotation), identity verification, allowed origins,
webhooks (delivery log, test event) and admin tokens.

Every change goes through what the admin API and the CLI use: the API's schemas (SiteSchema,
RotateSchema, WebhookSchema) validate, the stores change, `audit.record` logs who did it (the
dashboard account). A refused form shows the message next to its field and changes nothing.
Secrets (a rotated secret key, a webhook's signing secret, a new admin token) are shown once,
in the answer to the form that made them, never stored in the session or shown again.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from marshmallow import ValidationError

from .. import audit, webhooks
from ..api.site_schemas import RotateSchema, SiteSchema
from ..api.webhooks import WebhookSchema
from ..core import webhook_signing
from ..storage.sites import SiteStore
from ..storage.tokens import TokenStore
from ..storage.webhooks import WebhookStore
from ..webhook_test import send_test_event
from .access import Account, current_account, site_page

GRACE_CHOICES = ((0, "Stop the old key now"), (3600, "1 hour"), (86400, "24 hours"), (7 * 86400, "7 days"))
DELIVERIES_SHOWN = 10
NOTICES = {
    "identity": "Identity verification saved.", "origin-added": "Origin added.", "origin-removed": "Origin removed.",
    "test-sent": "Test event queued: it is in the delivery log below.", "webhook-deleted": "Webhook deleted.",
    "token-revoked": "Token revoked.",
}


def _services() -> Any:
    return current_app.extensions["ces"]


def _account() -> Account:
    return current_account()  # type: ignore[return-value]  # site_page made sure


def _record(action: str, target: str, detail: Any = None) -> None:
    services = _services()
    audit.record(services.storage, _account().actor, action, target, detail, services.now())


def when(ts: float | None) -> str:
    if ts is None:
        return "–"
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _messages(err: ValidationError) -> dict[str, str]:
    """marshmallow's messages, one line per field."""
    out: dict[str, str] = {}
    raw = err.normalized_messages()
    for name, value in (raw.items() if isinstance(raw, dict) else [("_schema", raw)]):
        if isinstance(value, dict):  # list fields: {index: [messages]}
            value = [m for ms in value.values() for m in (ms if isinstance(ms, list) else [ms])]
        out[str(name)] = " ".join(str(m) for m in (value if isinstance(value, list) else [value]))
    return out


def _tokens(account: Account, site: dict[str, Any]) -> list[dict[str, Any]]:
    """Tokens this account may see here: of this site, and (for an all-sites account) every-site ones."""
    rows = TokenStore(_services().storage).list()
    return [r for r in rows if r["site_id"] == site["id"] or (r["site_id"] is None and account.site_id is None)]


def _page(site: dict[str, Any], status: int = 200, **ctx: Any) -> Any:
    services = _services()
    account = _account()
    full = SiteStore(services.storage).get(site["id"]) or site
    hooks = WebhookStore(services.storage).list(site["id"])
    for hook in hooks:
        hook["deliveries"], hook["delivery_total"] = WebhookStore(services.storage).deliveries(
            hook["id"], None, DELIVERIES_SHOWN, 0)
    expires = full.get("previous_secret_expires_at")
    return render_template(
        "dashboard/settings.html", site=full, active="settings", hooks=hooks, tokens=_tokens(account, site),
        event_types=webhooks.EVENT_TYPES, grace_choices=GRACE_CHOICES, when=when,
        default_grace=int(current_app.config["SECRET_GRACE_SECONDS"]),
        previous_expires=when(expires) if expires is not None and expires > services.now() else None,
        webhook_form_open=any(k.startswith("webhook_") for k in ctx.get("errors", {})),
        notice=NOTICES.get(request.args.get("done", "")), errors=ctx.pop("errors", {}), values=ctx.pop("values", {}),
        **ctx), status


def _back(site: dict[str, Any], done: str, anchor: str) -> Any:
    return redirect(url_for("dashboard.settings", site_id=site["id"], done=done) + f"#{anchor}")


@site_page
def settings(site: dict[str, Any]) -> Any:
    return _page(site)


# -- keys ------------------------------------------------------------------------------------
@site_page
def rotate_secret(site: dict[str, Any]) -> Any:
    try:
        grace = RotateSchema().load({"grace_seconds": int(request.form.get("grace_seconds", ""))})["grace_seconds"]
    except (ValueError, ValidationError):
        return _page(site, 400, errors={"grace_seconds": "Choose how long the old key keeps working."})
    services = _services()
    row = SiteStore(services.storage).rotate_secret(site["id"], services.now(), grace)
    _record("site.rotate_secret", f"site:{site['id']}", {"grace_seconds": grace})
    return _page(site, new_secret=row["secret_key"], rotated_grace=grace)


# -- identity verification and origins --------------------------------------------------------
def _update_site(site: dict[str, Any], values: dict[str, Any]) -> dict[str, str] | None:
    """Change the site through the API's SiteSchema; the messages per field when it refuses."""
    try:
        data = SiteSchema(partial=True).load(values)
    except ValidationError as err:
        return _messages(err)
    SiteStore(_services().storage).update(site["id"], data)
    _record("site.update", f"site:{site['id']}", {"fields": sorted(data), "by": "dashboard"})
    return None


@site_page
def identity(site: dict[str, Any]) -> Any:
    on = request.form.get("identity_verification") == "on"
    problems = _update_site(site, {"identity_verification": on})
    if problems:
        return _page(site, 400, errors={"identity_verification": problems.get("identity_verification", "")})
    return _back(site, "identity", "identity")


@site_page
def origins(site: dict[str, Any]) -> Any:
    current = list(site.get("allowed_origins") or [])
    if request.form.get("remove") is not None:
        gone = request.form["remove"]
        problems = _update_site(site, {"allowed_origins": [o for o in current if o != gone]})
        return _back(site, "origin-removed", "origins") if not problems else _page(site, 400, errors=problems)
    origin = (request.form.get("origin") or "").strip()
    if not origin:
        return _page(site, 400, errors={"origin": "Enter an origin, e.g. https://shop.example."}, values={"origin": origin})
    problems = _update_site(site, {"allowed_origins": [*current, origin]})
    if problems:
        return _page(site, 400, errors={"origin": problems.get("allowed_origins") or " ".join(problems.values())},
                     values={"origin": origin})
    return _back(site, "origin-added", "origins")


# -- webhooks --------------------------------------------------------------------------------
@site_page
def create_webhook(site: dict[str, Any]) -> Any:
    body = {"site_id": site["id"], "url": (request.form.get("url") or "").strip(),
            "events": request.form.getlist("events"), "description": request.form.get("description") or None}
    try:
        data = WebhookSchema().load(body)
    except ValidationError as err:
        return _page(site, 400, errors={f"webhook_{k}": v for k, v in _messages(err).items()}, values=body)
    services = _services()
    hook = WebhookStore(services.storage).create(
        site["id"], data["url"], webhook_signing.generate_secret(), sorted(set(data["events"])),
        data["high_effort_max"], data["description"], services.now())
    _record("webhook.create", f"webhook:{hook['id']}", {"site_id": site["id"], "url": data["url"],
                                                        "events": hook["events"]})
    return _page(site, new_webhook=hook)


@site_page
def test_webhook(site: dict[str, Any], webhook_id: int) -> Any:
    hook = WebhookStore(_services().storage).get(webhook_id)
    if hook is None:
        abort(404)
    delivery_id = send_test_event(_services(), hook)
    _record("webhook.test", f"webhook:{webhook_id}", {"delivery_id": delivery_id})
    return _back(site, "test-sent", f"webhook-{webhook_id}")


@site_page
def delete_webhook(site: dict[str, Any], webhook_id: int) -> Any:
    services = _services()
    if not WebhookStore(services.storage).delete(webhook_id, services.now()):
        abort(404)
    _record("webhook.delete", f"webhook:{webhook_id}")
    return _back(site, "webhook-deleted", "webhooks")


# -- admin tokens ----------------------------------------------------------------------------
@site_page
def create_token(site: dict[str, Any]) -> Any:
    account = _account()
    name = (request.form.get("name") or "").strip()
    every_site = request.form.get("scope") == "all"
    values = {"name": name, "scope": "all" if every_site else "site", "read_only": request.form.get("read_only")}
    if not 1 <= len(name) <= 200:
        return _page(site, 400, errors={"token_name": "Give the token a name (1 to 200 characters), e.g. who uses it."},
                     values=values)
    if every_site and account.site_id is not None:
        return _page(site, 400, errors={"token_scope": "Your account reaches one site: it can make tokens of that site only."},
                     values=values)
    read_only = request.form.get("read_only") == "on"
    if account.read_only:
        read_only = True
    site_id = None if every_site else site["id"]
    services = _services()
    row, token = TokenStore(services.storage).create(name, services.now(), site_id, read_only)
    _record("token.create", f"token:{row['id']}", {"name": name, "site_id": site_id, "read_only": read_only})
    return _page(site, new_token=token, new_token_row=row)


@site_page
def revoke_token(site: dict[str, Any], token_id: int) -> Any:
    if not any(t["id"] == token_id and t["revoked_at"] is None for t in _tokens(_account(), site)):
        abort(404)
    services = _services()
    services.storage.revoke_admin_token(token_id, services.now())
    _record("token.revoke", f"token:{token_id}")
    return _back(site, "token-revoked", "tokens")


def register(bp: Blueprint) -> None:
    base = "/sites/<int:site_id>/settings"
    bp.add_url_rule(base, "settings", settings, methods=["GET"])
    bp.add_url_rule(f"{base}/rotate-secret", "settings_rotate_secret", rotate_secret, methods=["POST"])
    bp.add_url_rule(f"{base}/identity", "settings_identity", identity, methods=["POST"])
    bp.add_url_rule(f"{base}/origins", "settings_origins", origins, methods=["POST"])
    bp.add_url_rule(f"{base}/webhooks", "settings_create_webhook", create_webhook, methods=["POST"])
    bp.add_url_rule(f"{base}/webhooks/<int:webhook_id>/test", "settings_test_webhook", test_webhook, methods=["POST"])
    bp.add_url_rule(f"{base}/webhooks/<int:webhook_id>/delete", "settings_delete_webhook", delete_webhook,
                    methods=["POST"])
    bp.add_url_rule(f"{base}/tokens", "settings_create_token", create_token, methods=["POST"])
    bp.add_url_rule(f"{base}/tokens/<int:token_id>/revoke", "settings_revoke_token", revoke_token, methods=["POST"])
