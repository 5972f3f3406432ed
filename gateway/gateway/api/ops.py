"""Ops endpoints: liveness, readiness of the three servers, Prometheus metrics."""
from __future__ import annotations

import pika
import requests
from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from portal_common.observability import check

bp = Blueprint("ops", __name__)
PROBE_TIMEOUT_S = 1.5


def _amqp(uri: str) -> None:
    """A full AMQP handshake and a clean close (a bare TCP probe makes the broker log warnings)."""
    params = pika.URLParameters(uri)
    params.connection_attempts = 1
    params.socket_timeout = PROBE_TIMEOUT_S
    params.blocked_connection_timeout = PROBE_TIMEOUT_S
    params.stack_timeout = PROBE_TIMEOUT_S * 2
    pika.BlockingConnection(params).close()


@bp.get("/healthz")
def healthz():
    """The process is alive (no dependency is checked)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """200 when RabbitMQ, MongoDB and Elasticsearch answer, each within a short timeout; 503
    otherwise. The body lists every check with its own status and time."""
    settings = current_app.config["SETTINGS"]
    mongo = current_app.extensions["mongo"]
    checks = [
        check("rabbitmq", lambda: _amqp(settings.amqp_uri)),
        check("mongodb", lambda: mongo.admin.command("ping")),
        check("elasticsearch", lambda: requests.get(
            settings.elasticsearch_url.rstrip("/") + "/_cluster/health",
            timeout=PROBE_TIMEOUT_S).raise_for_status()),
    ]
    ok = all(c["ok"] for c in checks)
    response = jsonify(status="ready" if ok else "unavailable", checks=checks)
    response.status_code = 200 if ok else 503
    return response


@bp.get("/metrics")
def metrics():
    """Prometheus text format: requests, latency, RPC latency, page views dropped."""
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
