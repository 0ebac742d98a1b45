"""Who is logged in to the dashboard, what they may see, and the CSRF check.

A dashboard session is Flask's signed cookie (HttpOnly, SameSite=Lax, Secure over https), signed
with the installation's own secret. It holds only which account logged in (an admin token's id
or a dashboard user's id), when, and the session's CSRF token, never a token or a password. Every
request re-reads the account: a revoked token or a disabled user is logged out at once.

For page modules:
- `@site_page` on a view of `/sites/<int:site_id>/...`: not logged in → redirect to the login
  page (with `next`); a site the account does not reach, or an object of the URL (survey_id,
  trigger_id, webhook_id, answer_id) of another site → 404; the view gets `site` (the site's
  public row) instead of `site_id`.
- `current_account()`: the `Account` logged in, or None.
- Every POST/PUT/PATCH/DELETE of the blueprint is CSRF-checked before its view runs: forms put
  `{{ csrf_field() }}` inside; fetch() sends the header `X-CSRF-Token` with the value of
  `<meta name="csrf-token">` (static/dashboard.js: `CES.post(url, body)`).
- A read-only account may look, not change: its state-changing requests are refused (403).
"""
from __future__ import annotations

import functools
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, jsonify, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from markupsafe import Markup, escape

from ..api.auth import OWNERS, Scope
from ..storage.dashboard_users import DashboardUserStore, active_admin_token
from ..storage.installation_secrets import installation_secret
from ..storage.sites import SiteStore

SESSION_SECONDS = 12 * 3600  # a login lasts a working day
STATE_CHANGING = frozenset(("POST", "PUT", "PATCH", "DELETE"))
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class Account:
    """A logged-in account: an admin token or a dashboard user, with the same kind of scope."""

    kind: str            # "token" | "user"
    id: int
    label: str           # shown in the header: the token's name or the user's email
    site_id: int | None  # None: every site
    read_only: bool

    @property
    def scope(self) -> Scope:
        """The same scope object the admin API checks, for services that take one."""
        return Scope(self.id, self.label, self.site_id, self.read_only)

    def sees(self, site_id: int | None) -> bool:
        return self.site_id is None or site_id == self.site_id

    @property
    def actor(self) -> dict[str, Any]:
        """Who made a change, for the audit log."""
        if self.kind == "token":
            return {"kind": "token", "id": self.id, "name": self.label}
        return {"kind": "dashboard_user", "id": self.id, "name": self.label}


def _services() -> Any:
    return current_app.extensions["ces"]


def visible_sites(account: Account) -> list[dict[str, Any]]:
    """The sites the account reaches (public columns), by id."""
    return SiteStore(_services().storage).list(account.site_id)


# -- session ---------------------------------------------------------------------------------
def _load_account() -> Account | None:
    kind, account_id, started = session.get("kind"), session.get("account_id"), session.get("started_at")
    if kind not in ("token", "user") or not isinstance(account_id, int) or not isinstance(started, (int, float)):
        return None
    if time.time() - started > SESSION_SECONDS:
        return None
    storage = _services().storage
    if kind == "token":
        row = active_admin_token(storage, account_id)
        if row is None:
            return None
        return Account("token", row["id"], row["name"], row.get("site_id"), bool(row.get("read_only")))
    row = DashboardUserStore(storage).active(account_id)
    if row is None:
        return None
    return Account("user", row["id"], row["email"], row.get("site_id"), bool(row.get("read_only")))


def current_account() -> Account | None:
    """Who is logged in to the dashboard on this request (once per request), or None."""
    if "ces_account" not in g:
        g.ces_account = _load_account()
    return g.ces_account


def log_in(account: Account) -> None:
    """Start a fresh session for `account` (a new CSRF token: nothing carried over from before)."""
    session.clear()
    session["kind"], session["account_id"], session["started_at"] = account.kind, account.id, time.time()
    session["csrf"] = secrets.token_urlsafe(32)
    g.ces_account = account


def log_out() -> None:
    session.clear()
    g.ces_account = None


def safe_next(target: str | None) -> str | None:
    """`target` when it is a path of this dashboard (never another host: no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/dashboard/") or "\\" in target:
        return None
    return target


def login_redirect() -> Any:
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("dashboard.login", next=target))


# -- CSRF ------------------------------------------------------------------------------------
def csrf_token() -> str:
    """This session's CSRF token (made on first use, also before login: the login form has one)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_field() -> Markup:
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token())}">')


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def refuse(status: int, code: str, message: str) -> Any:
    """A refusal as JSON for fetch() calls, as a page for a form post."""
    if _wants_json() or request.headers.get(CSRF_HEADER) is not None:
        response = jsonify(error={"code": code, "message": message})
        response.status_code = status
        return response
    return render_template("dashboard/error.html", status=status, message=message), status


def csrf_protect() -> Any:
    """Before every request of the blueprint: a state-changing one needs this session's CSRF
    token (form field or header), else 400 and nothing runs."""
    if request.method not in STATE_CHANGING:
        return None
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    expected = session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        return refuse(400, "csrf_failed", "This form has expired or did not come from the dashboard. "
                      "Reload the page and try again.")
    account = current_account()
    if account is not None and account.read_only and request.endpoint not in ("dashboard.logout", "dashboard.login"):
        return refuse(403, "forbidden", "This account is read-only: it can look, not change anything.")
    return None


# -- pages -----------------------------------------------------------------------------------
def site_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """A page of one site: login required, the site (and every object of the URL) must be one
    the account reaches, else the same 404 as for a site that does not exist."""
    @functools.wraps(view)
    def wrapper(site_id: int, **kwargs: Any) -> Any:
        account = current_account()
        if account is None:
            if request.method in STATE_CHANGING:
                return refuse(401, "unauthorized", "Log in again: your session has ended.")
            return login_redirect()
        if not account.sees(site_id):
            abort(404)
        found = SiteStore(_services().storage).list(site_id)
        if not found:
            abort(404)
        storage = _services().storage
        for arg, value in kwargs.items():
            owner = OWNERS.get(arg)
            if owner is not None and owner(storage, value) != site_id:
                abort(404)
        return view(site=found[0], **kwargs)
    return wrapper


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """A dashboard page of no one site (e.g. the home redirect)."""
    @functools.wraps(view)
    def wrapper(**kwargs: Any) -> Any:
        if current_account() is None:
            return login_redirect()
        return view(**kwargs)
    return wrapper


# -- the session cookie ----------------------------------------------------------------------
class DashboardSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, Secure whenever the request came over https (directly or
    through a trusted proxy, CES_PROXY_HOPS), so a plain-http install on a laptop still works."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def init_session(app: Flask) -> None:
    """The session's key and cookie: the configured SECRET_KEY (CES_SECRET_KEY) when there is
    one, else the installation's own, made once and kept in the database."""
    services = app.extensions["ces"]
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = installation_secret(services.storage, "session_key", services.now())
    app.config["SESSION_COOKIE_NAME"] = "ces_session"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_PATH"] = "/dashboard"
    app.session_interface = DashboardSessionInterface()
