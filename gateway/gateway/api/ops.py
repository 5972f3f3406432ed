"""Ops endpoints: liveness, readiness of the three servers, Prometheus metrics."""
from __future__ import annotations

import pika
import requests
from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from gateway.contract import operation
from portal_common.observability import check

bp = Blueprint("ops", __name__)
PROBE_TIMEOUT_S = 1.5


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Check(BaseModel):
    name: str = Field(examples=["mongodb"])
    ok: bool
    ms: float = Field(examples=[1.4])
    error: str | None = None


class Readiness(BaseModel):
    status: str = Field(examples=["ready"], description="`ready` or `unavailable`")
    checks: list[Check]


def _amqp(uri: str) -> None:
    """A full AMQP handshake and a clean close (a bare TCP probe makes the broker log warnings)."""
    params = pika.URLParameters(uri)
    params.connection_attempts = 1
    params.socket_timeout = PROBE_TIMEOUT_S
    params.blocked_connection_timeout = PROBE_TIMEOUT_S
    params.stack_timeout = PROBE_TIMEOUT_S * 2
    pika.BlockingConnection(params).close()


@bp.get("/healthz")
@operation(tags=["ops"], response=Health, calls_services=False)
def healthz():
    """The process is alive (no dependency is checked)."""
    return jsonify(status="ok")


@bp.get("/readyz")
@operation(tags=["ops"], response=Readiness, calls_services=False,
           extra_responses={503: {"description": "A server does not answer: the body says which",
                                  "content": {"application/json": {
                                      "schema": {"$ref": "#/components/schemas/Readiness"}}}}})
def readyz():
    """RabbitMQ, MongoDB and Elasticsearch answer.

    200 when all three answer, each within a short timeout; 503 otherwise. The body lists every
    check with its own status and time."""
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
@operation(tags=["ops"], media_type="text/plain", response_schema={"type": "string"},
           calls_services=False)
def metrics():
    """Prometheus metrics (text format).

    Requests by route and status, latency, RPC latency, page views dropped, cache lookups."""
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
