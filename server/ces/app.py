"""The Flask application factory."""
from __future__ import annotations

import logging
from typing import Any, Mapping

from flask import Flask, jsonify

from . import config as config_module
from . import rate_limits
from .api import admin, errors, events, openapi, sites, surveys
from .api import reports as reports_api
from .api import site_limits
from .api import webhooks as webhooks_api
from .api import audit as audit_api
from .api import themes as themes_api
from .api import retention as retention_api
from .api import users as users_api
from .api import activity as activity_api
from .api import webhook_test as webhook_test_api
from . import security_headers
from .api import body
from .api.json_output import StrictJSONProvider
from . import bus as bus_module
from .delivery import DoorbellCourier
from .services import Services
from .storage import Storage
from .storage.answer_props import status as answer_props_status
from .widget_route import bp as widget_bp
from .socket_reader import socket_thread_options
from .ws import sock, without_compression


def create_app(overrides: Mapping[str, Any] | None = None, services: Services | None = None) -> Flask:
    """Build the app. `overrides` win over the config file and CES_* variables (tests use them)."""
    app = Flask(__name__)
    app.config.update(config_module.resolve(overrides))
    app.config["SOCK_SERVER_OPTIONS"] = {"ping_interval": app.config["WS_PING_INTERVAL"],
                                         # The transport's hard cap (close 1009) sits above the protocol's
                                         # limit, so an oversized message gets a readable error first.
                                         "max_message_size": 4 * app.config["WS_MAX_MESSAGE"],
                                         **socket_thread_options()}
    app.json = StrictJSONProvider(app)  # never NaN/Infinity in a response
    app.json.sort_keys = False  # type: ignore[attr-defined]

    if services is None:
        services = Services(Storage(app.config["DATABASE"], app.config["SQLITE_SYNCHRONOUS"]))
    services.storage.migrate()
    if services.courier is None:
        sweep = float(app.config["SWEEP_INTERVAL"])
        services.presence_ttl = max(10.0, 4 * sweep)
        services.courier = DoorbellCourier(services, bus_module.from_url(app.config.get("REDIS_URL"),
                                                                         services.process_id), sweep).start()
    app.extensions["ces"] = services
    from .webhooks import Sender  # the background webhook sender (starts when there is work)
    app.extensions["ces_webhooks"] = Sender.from_config(services, app.config)
    app.extensions["ces_webhooks"].start_if_pending()
    from .theme_alerts import ThemeGrowthJob  # theme.grown: a periodic check of every theme
    app.extensions["ces_theme_growth"] = ThemeGrowthJob(services, float(app.config["THEME_GROWTH_INTERVAL"]),
                                                        int(app.config["THEME_GROWTH_DAYS"]))
    app.extensions["ces_theme_growth"].start()
    from .retention import RetentionJob  # applies each site's retention in the background
    app.extensions["ces_retention"] = RetentionJob(services.storage, services.now,
                                                   float(app.config["RETENTION_INTERVAL"]))
    app.extensions["ces_retention"].start()
    from .alerts_job import AlertsJob  # score drops and digests (docs/insights.md)
    app.extensions["ces_alerts"] = AlertsJob(services, services.now, float(app.config["ALERTS_INTERVAL"]))
    app.extensions["ces_alerts"].start()
    from .answer_props_job import AnswerPropsJob  # the property filters' index, copied in the background
    app.extensions["ces_answer_props"] = AnswerPropsJob(services.storage, float(app.config["ANSWER_PROPS_INTERVAL"]))
    app.extensions["ces_answer_props"].start()

    errors.register(app)
    # Ids in URLs are SQLite integers: a larger number is an unknown path (404), never an overflow.
    app.url_map.converters["int"] = openapi.SqliteInt
    body.register(app)  # URL text: UTF-8, no NUL
    security_headers.register(app)
    rate_limits.init_app(app).guard_requests_per_ip(events.bp)
    app.register_blueprint(events.bp)
    app.register_blueprint(surveys.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(sites.bp)
    app.register_blueprint(reports_api.bp)
    app.register_blueprint(themes_api.bp)
    app.register_blueprint(webhooks_api.bp)
    app.register_blueprint(users_api.bp)
    app.register_blueprint(retention_api.bp)
    app.register_blueprint(audit_api.bp)
    from .api import insights as insights_api
    app.register_blueprint(insights_api.bp)
    app.register_blueprint(site_limits.bp)
    app.register_blueprint(activity_api.bp)
    app.register_blueprint(webhook_test_api.bp)
    from .api import fatigue_diagnostic as fatigue_diagnostic_api
    app.register_blueprint(fatigue_diagnostic_api.bp)
    app.register_blueprint(widget_bp)
    app.register_blueprint(openapi.bp)
    if app.config.get("DEMO"):
        from .demo import bp as demo_bp
        app.extensions["ces_limits"].guard_requests_per_ip(demo_bp)  # its posts write events too
        app.register_blueprint(demo_bp)
    from . import dashboard  # the product teams' pages, at /dashboard
    dashboard.init_app(app)
    sock.init_app(app)
    app.wsgi_app = without_compression(app.wsgi_app)  # type: ignore[method-assign]

    @app.get("/healthz")
    def healthz():
        courier = services.courier
        bus = getattr(courier, "bus", None)
        # sockets: this process's; connected: the widgets of every process sharing the database.
        # swept: prompts this process sent at a sweep because no doorbell brought them.
        return jsonify(ok=True, sockets=services.hub.count(), connected=services.connected_count(),
                       bus=None if bus is None or not bus.shared else ("up" if bus.up else "down"),
                       swept=getattr(courier, "swept", 0),
                       answer_props=answer_props_status(services.storage),  # the background copy's progress
                       # The report columns' state at the job's last run (reports.md, "Fast filters"); null before it.
                       report_columns=app.extensions["ces_answer_props"].columns_status)

    logging.getLogger("ces").setLevel(app.config.get("LOG_LEVEL", "INFO"))
    return app
