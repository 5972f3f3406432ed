"""Ops endpoints: liveness, readiness of the three servers, Prometheus metrics."""
from __future__ import annotations

import socket
from urllib.parse import urlparse

import requests
from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from portal_common.observability import check

bp = Blueprint("ops", __name__)
PROBE_TIMEOUT_S = 1.5


def _tcp(uri: str, default_port: int) -> None:
    parsed = urlparse(uri)
    with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port),
                                  timeout=PROBE_TIMEOUT_S) as sock:
        if parsed.scheme.startswith("amqp"):
            # a broker greets the AMQP header with its Connection.Start frame
            sock.sendall(b"AMQP\x00\x00\x09\x01")
            sock.settimeout(PROBE_TIMEOUT_S)
            if sock.recv(1)[:1] != b"\x01":
                raise ConnectionError("not an AMQP 0-9-1 broker")


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
        check("rabbitmq", lambda: _tcp(settings.amqp_uri, 5672)),
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
