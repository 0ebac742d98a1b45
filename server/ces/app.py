"""The Flask application factory."""
from __future__ import annotations

import logging
import secrets
from typing import Any, Mapping

from flask import Flask, jsonify

from . import config as config_module
from . import rate_limits
from .api import admin, errors, events, surveys
from .api import reports as reports_api
from .api import site_limits
from .api import webhooks as webhooks_api
from .delivery import Scheduler
from .services import Services
from .storage import Storage
from .widget_route import bp as widget_bp
from .ws import sock


def create_app(overrides: Mapping[str, Any] | None = None, services: Services | None = None) -> Flask:
    """Build the app. `overrides` win over the config file and CES_* variables (tests use them)."""
    app = Flask(__name__)
    app.config.update(config_module.resolve(overrides))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    app.config["SOCK_SERVER_OPTIONS"] = {"ping_interval": app.config["WS_PING_INTERVAL"],
                                         # The transport's hard cap (close 1009) sits above the protocol's
                                         # limit, so an oversized message gets a readable error first.
                                         "max_message_size": 4 * app.config["WS_MAX_MESSAGE"]}
    app.json.sort_keys = False  # type: ignore[attr-defined]

    if services is None:
        services = Services(Storage(app.config["DATABASE"], app.config["SQLITE_SYNCHRONOUS"]))
    services.storage.migrate()
    if services.scheduler is None:
        services.scheduler = Scheduler(services)
    app.extensions["ces"] = services
    from .webhooks import Sender  # the background webhook sender (starts when there is work)
    app.extensions["ces_webhooks"] = Sender.from_config(services, app.config)
    app.extensions["ces_webhooks"].start_if_pending()

    errors.register(app)
    rate_limits.init_app(app).guard_requests_per_ip(events.bp)
    app.register_blueprint(events.bp)
    app.register_blueprint(surveys.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(reports_api.bp)
    app.register_blueprint(webhooks_api.bp)
    app.register_blueprint(site_limits.bp)
    app.register_blueprint(widget_bp)
    if app.config.get("DEMO"):
        from .demo import bp as demo_bp
        app.extensions["ces_limits"].guard_requests_per_ip(demo_bp)  # its posts write events too
        app.register_blueprint(demo_bp)
    sock.init_app(app)

    @app.get("/healthz")
    def healthz():
        return jsonify(ok=True, sockets=services.hub.count())

    logging.getLogger("ces").setLevel(app.config.get("LOG_LEVEL", "INFO"))
    return app
