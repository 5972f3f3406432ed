"""The Flask app factory: ``create_app(settings=None)``, and ``shutdown(app)`` for its end.

Wires the settings, the RPC pool, the accounts store, the rate limits, the page-view publisher
and the blueprints, and puts the cross-cutting rules on every request: a correlation id
(``X-Request-ID``), a body size limit, JSON problem documents for every error, CORS for the
configured origins, security headers (HSTS when configured), one JSON log line and metrics.
"""
from __future__ import annotations

import logging
import re
import time

from flask import Flask, g, request
from flask_cors import CORS
from prometheus_client import Counter, Histogram
from werkzeug.middleware.proxy_fix import ProxyFix

from gateway.accounts import Accounts, LoginPolicy
from gateway.api import BLUEPRINTS
from gateway.caching import ResponseCache
from gateway.intake import IntakePublisher
from gateway.limits import RateLimits
from gateway.pageviews import PageViewPublisher
from gateway.problems import register_error_handlers
from gateway.rpc import RpcPool
from gateway.settings import GatewaySettings, get_gateway_settings
from gateway.visitor_ids import DailySalts
from portal_common.logs import configure_logging, current_correlation_id, set_correlation_id
from portal_common.mongo import make_client

log = logging.getLogger("gateway.requests")

REQUESTS = Counter("portal_gateway_requests_total", "HTTP requests", ["route", "method", "status"])
LATENCY = Histogram("portal_gateway_request_seconds", "HTTP request latency", ["route", "method"],
                    buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))

REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
# probes and scrapes every few seconds would drown the request log
QUIET_ROUTES = {"/healthz", "/readyz", "/metrics"}

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
    if settings.proxy_hops:
        # behind an ingress/load balancer: the client's address and scheme come from it
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops,
                                x_proto=settings.proxy_hops, x_host=settings.proxy_hops)

    mongo = make_client("gateway", pool_size=settings.rpc_pool_size + 4, settings=settings)
    app.extensions["mongo"] = mongo
    app.extensions["accounts"] = accounts_from(settings, mongo)
    RateLimits(app, settings.ratelimit_storage_uri)
    app.extensions["rpc"] = RpcPool(settings.amqp_uri, size=settings.rpc_pool_size,
                                    timeout=settings.rpc_timeout_s)
    app.extensions["response_cache"] = ResponseCache(settings.amqp_uri)
    app.extensions["pageviews"] = PageViewPublisher(settings.amqp_uri, settings.pageview_buffer)
    app.extensions["visitor_key"] = settings.read_or_create_secret("visitor-key")
    app.extensions["visitor_salts"] = DailySalts(
        mongo[settings.database_name("gateway")]["visitor_salts"])
    app.extensions["feedback_intake"] = IntakePublisher(
        settings.amqp_uri, size=settings.feedback_intake_connections, timeout=settings.rpc_timeout_s)

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    if settings.cors_origin_list:
        CORS(app, resources={r"/api/v1/*": {"origins": settings.cors_origin_list}},
             allow_headers=["Authorization", "Content-Type", "If-None-Match", "X-Request-ID"],
             expose_headers=["ETag", "Retry-After", "X-Request-ID", "X-RateLimit-Limit",
                             "X-RateLimit-Remaining", "X-RateLimit-Reset"],
             methods=["GET", "POST", "PATCH", "DELETE"], max_age=600,
             supports_credentials=False)
    security_headers = dict(SECURITY_HEADERS)
    if settings.hsts_max_age_s:
        security_headers["Strict-Transport-Security"] = (
            f"max-age={settings.hsts_max_age_s}; includeSubDomains")

    @app.before_request
    def _start():
        g.started = time.perf_counter()
        given = request.headers.get("X-Request-ID", "")
        # a client's id is kept when it is a plain token; anything else gets a fresh one
        set_correlation_id(given if REQUEST_ID.fullmatch(given) else None)

    @app.after_request
    def _finish(response):
        route = request.url_rule.rule if request.url_rule else "unmatched"
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        REQUESTS.labels(route, request.method, response.status_code).inc()
        LATENCY.labels(route, request.method).observe(elapsed)
        response.headers["X-Request-ID"] = current_correlation_id() or ""
        for key, value in security_headers.items():
            response.headers.setdefault(key, value)
        if route not in QUIET_ROUTES:
            log.info("%s %s %s", request.method, request.path, response.status_code,
                     extra={"method": request.method, "path": request.path, "route": route,
                            "status": response.status_code, "ms": round(elapsed * 1000, 2),
                            "client": request.remote_addr})
        return response

    return app


def shutdown(app: Flask, *, flush_timeout: float = 10.0) -> bool:
    """Stop what ``create_app`` started: first publish the page views still buffered (up to
    ``flush_timeout`` seconds), then stop the cache's invalidation listener and close the RPC
    proxies, the intake connections and the MongoDB client. Returns False when page views were
    left unpublished. Gunicorn calls it when a worker exits; tests, for every app they build
    (a listener left running retries a closed broker for the rest of the test session)."""
    flushed = app.extensions["pageviews"].stop(timeout=flush_timeout)
    app.extensions["response_cache"].stop()
    app.extensions["rpc"].close()
    app.extensions["feedback_intake"].close()
    app.extensions["mongo"].close()
    return flushed


def accounts_from(settings: GatewaySettings, mongo) -> Accounts:
    return Accounts(
        mongo[settings.database_name("gateway")], settings.signing_key(), settings.token_ttl_s,
        refresh_ttl_s=settings.refresh_ttl_s, cache_s=settings.account_cache_s,
        login_policy=LoginPolicy(
            max_failures_per_user=settings.login_max_failures,
            max_failures_per_address=settings.login_max_failures_per_address,
            window_s=settings.login_failure_window_s, lockout_s=settings.login_lockout_s))
