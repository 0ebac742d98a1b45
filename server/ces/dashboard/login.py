"""Log in (admin token, or email and password), log out, and the dashboard's home redirect."""
from __future__ import annotations

import math
import time
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from ..accounts import check_login
from ..rate_limits import RateLimited, client_ip
from ..storage.tokens import TokenStore
from . import access

WRONG = "That login is not right. Check it and try again."  # the same for every failure: reveals nothing
LIMIT = "login_failures_per_ip"


def _limits() -> Any:
    return current_app.extensions.get("ces_limits")


def _blocked() -> int | None:
    """Seconds to wait when this address is past its failed-login limit, else None (counts nothing)."""
    limits = _limits()
    if limits is None or not limits.enabled:
        return None
    strategy = limits.limiter.limiter
    for item in limits.items(LIMIT, None):
        if not strategy.test(item, LIMIT, client_ip()):
            reset = strategy.get_window_stats(item, LIMIT, client_ip()).reset_time
            return max(1, math.ceil(reset - time.time()))
    return None


def _count_failure() -> None:
    limits = _limits()
    if limits is not None:
        try:
            limits.spend(LIMIT, None, client_ip())
        except RateLimited:
            pass  # already past it: the next attempt is refused by _blocked()


def _account_from_form() -> access.Account | None:
    services = current_app.extensions["ces"]
    token = (request.form.get("token") or "").strip()
    if token:
        row = TokenStore(services.storage).by_token(token)
        if row is None:
            return None
        return access.Account("token", row["id"], row["name"], row.get("site_id"), bool(row.get("read_only")))
    user = check_login(services.storage, request.form.get("email") or "", request.form.get("password") or "")
    if user is None:
        return None
    return access.Account("user", user["id"], user["email"], user.get("site_id"), bool(user.get("read_only")))


def _form(status: int = 200, **ctx: Any) -> Any:
    mode = ctx.pop("mode", None) or ("password" if request.form.get("email") else "token")
    return render_template("dashboard/login.html", next=access.safe_next(request.values.get("next")) or "",
                           mode=mode, **ctx), status


def login() -> Any:
    if request.method == "GET":
        if access.current_account() is not None:
            return redirect(access.safe_next(request.args.get("next")) or url_for("dashboard.home"))
        return _form(mode=request.args.get("with") if request.args.get("with") in ("token", "password") else None)
    wait = _blocked()
    if wait is not None:
        minutes = max(1, round(wait / 60))
        return _form(429, error=f"Too many failed logins from your address. Try again in {minutes} min.",
                     email=request.form.get("email", ""))
    account = _account_from_form()
    if account is None:
        _count_failure()
        return _form(401, error=WRONG, email=request.form.get("email", ""))
    access.log_in(account)
    return redirect(access.safe_next(request.form.get("next")) or url_for("dashboard.home"))


def logout() -> Any:
    access.log_out()
    return redirect(url_for("dashboard.login", out=1))


@access.login_required
def home() -> Any:
    """The first site the account can see (an install has at least the default site)."""
    sites = access.visible_sites(access.current_account())  # type: ignore[arg-type]
    if not sites:
        return render_template("dashboard/error.html", status=404,
                               message="Your account reaches no site yet. Create one with `ces site create NAME`."), 404
    return redirect(url_for("dashboard.overview", site_id=sites[0]["id"]))


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    bp.add_url_rule("/logout", "logout", logout, methods=["POST"])
    bp.add_url_rule("/", "home", home)

