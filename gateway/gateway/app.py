"""The Flask app factory: ``create_app(overrides=None)``.

Wires the settings, the RPC pool, the accounts store, the page-view publisher and the
blueprints, and puts the cross-cutting rules on every request: a correlation id
(``X-Request-ID``), a body size limit, JSON problem documents for every error, basic security
headers, and request metrics.
"""
from __future__ import annotations

import time

from flask import Flask, g, request
from prometheus_client import Counter, Histogram

from gateway.accounts import Accounts
from gateway.api import BLUEPRINTS
from gateway.caching import ResponseCache
from gateway.intake import IntakePublisher
from gateway.limits import init_limits
from gateway.pageviews import PageViewPublisher
from gateway.problems import register_error_handlers
from gateway.rpc import RpcPool
from gateway.settings import GatewaySettings, get_gateway_settings
from portal_common.logs import configure_logging, current_correlation_id, set_correlation_id
from portal_common.mongo import make_client

REQUESTS = Counter("portal_gateway_requests_total", "HTTP requests", ["route", "method", "status"])
LATENCY = Histogram("portal_gateway_request_seconds", "HTTP request latency", ["route", "method"],
                    buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


def create_app(settings: GatewaySettings | None = None) -> Flask:
    settings = settings or get_gateway_settings()
    configure_logging("gateway", settings.log_level)

    app = Flask(__name__)
    app.config.update(SETTINGS=settings, MAX_CONTENT_LENGTH=settings.max_body_bytes)
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    mongo = make_client("gateway", pool_size=settings.rpc_pool_size + 4, settings=settings)
    app.extensions["mongo"] = mongo
    app.extensions["accounts"] = Accounts(
        mongo[settings.database_name("gateway")]["users"], settings.signing_key(),
        settings.token_ttl_s)
    app.extensions["rpc"] = RpcPool(settings.amqp_uri, size=settings.rpc_pool_size,
                                    timeout=settings.rpc_timeout_s)
    app.extensions["response_cache"] = ResponseCache(settings.amqp_uri)
    app.extensions["pageviews"] = PageViewPublisher(settings.amqp_uri, settings.pageview_buffer)
    app.extensions["visitor_key"] = settings.read_or_create_secret("visitor-key")
    app.extensions["feedback_intake"] = IntakePublisher(
        settings.amqp_uri, size=settings.feedback_intake_connections, timeout=settings.rpc_timeout_s)

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    init_limits(app)
    register_error_handlers(app)

    @app.before_request
    def _start():
        g.started = time.perf_counter()
        set_correlation_id(request.headers.get("X-Request-ID"))

    @app.after_request
    def _finish(response):
        route = request.url_rule.rule if request.url_rule else "unmatched"
        REQUESTS.labels(route, request.method, response.status_code).inc()
        LATENCY.labels(route, request.method).observe(time.perf_counter() - g.get("started", 0))
        response.headers["X-Request-ID"] = current_correlation_id() or ""
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    return app
