"""The dashboard: server-rendered pages for product teams at /dashboard (issue 12).

Each page lives in its own module with a `register(bp)` function; PAGES lists them (one line
per page module). Pages read and write only through the services the admin API uses: no SQL
here. `access.py` has the login, the scopes and the CSRF check every page relies on.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

from flask import Blueprint, Flask, redirect, render_template, url_for

from . import access

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="templates",
               static_folder="static", static_url_path="/static")

# The page modules, each with register(bp). One line per module.
PAGES = (
    "login",
    "overview",
    "results",
    "insights",
    "settings",
    "vendor",
    "surveys",
    "triggers",
    "test_trigger",
    "users",
    "fatigue",
    "themes",
)

NAV = (  # (active key, label, endpoint): the site's pages in the header
    ("overview", "Overview", "dashboard.overview"),
    ("surveys", "Surveys", "dashboard.surveys"),
    ("triggers", "Triggers", "dashboard.triggers"),
    ("test", "Test", "dashboard.test_trigger"),
    ("fatigue", "Fatigue", "dashboard.fatigue"),
    ("themes", "Themes", "dashboard.themes"),
    ("settings", "Settings", "dashboard.settings"),
)


@bp.before_request
def _csrf() -> Any:
    return access.csrf_protect()


@bp.after_request
def _no_store(response: Any) -> Any:
    # Pages show keys and people's answers: never kept by a shared browser's cache or a proxy.
    if response.mimetype in ("text/html", "application/json", "text/event-stream"):
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_template_global()
def nav_items(site: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The nav of `site`: the pages whose module is installed (a link to a missing page would 404)."""
    from flask import current_app
    items = []
    for key, label, endpoint in NAV:
        if endpoint in current_app.view_functions:
            items.append((key, label, url_for(endpoint, site_id=site["id"])))
    return items


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@bp.app_template_global()
def short_time(iso: str | None) -> str:
    """"1 Dec 04:55" from an ISO time as the API writes it (already in the site's zone); the
    overview's JS writes the same text for the answers it adds live."""
    if not iso or len(iso) < 16:
        return iso or ""
    return f"{int(iso[8:10])} {MONTHS[int(iso[5:7]) - 1]} {iso[11:16]}"


@bp.context_processor
def _globals() -> dict[str, Any]:
    account = access.current_account()
    return {"account": account, "csrf_field": access.csrf_field, "csrf_token": access.csrf_token,
            "sites": access.visible_sites(account) if account is not None else []}


def _error_page(status: int, message: str) -> Any:
    return render_template("dashboard/error.html", status=status, message=message), status


@bp.errorhandler(404)
def _not_found(err: Any) -> Any:
    return _error_page(404, "There is no such page, or your account cannot see it.")


@bp.errorhandler(403)
def _forbidden(err: Any) -> Any:
    return _error_page(403, "Your account cannot do this.")


def init_app(app: Flask) -> None:
    """Register the dashboard on `app`, with `/`, `/dashboard` and `/admin` leading to it."""
    access.init_session(app)
    app.register_blueprint(bp)

    def home() -> Any:
        return redirect(url_for("dashboard.home"))
    app.add_url_rule("/", "root", home)
    app.add_url_rule("/admin", "admin_root", home)


# Routes are added once, when the package is first imported (a blueprint takes no new route
# after its first registration, and tests build many apps).
for _name in PAGES:
    import_module(f"{__name__}.{_name}").register(bp)
