"""Calling services through the gateway's RPC pool, against a real Nameko service in the test's
own vhost: typed remote errors keep their HTTP status, a slow service is a 504 within the
timeout, a stopped one a prompt 503, and the request's correlation id reaches the service."""
import time

import pytest
from flask import Blueprint, current_app, jsonify

from gateway.contract import operation
from gateway.settings import GatewaySettings
from portal_common.entrypoints import rpc
from portal_common.errors import Conflict, Forbidden, Invalid, NotFound
from portal_common.logs import current_correlation_id
from portal_common.observability import Instrumentation


class Probe:
    name = "gateway_probe"
    instrumentation = Instrumentation()

    @rpc
    def fail(self, kind):
        errors = {"missing": NotFound("no such thing"), "conflict": Conflict("taken"),
                  "invalid": Invalid("bad", [{"field": "title", "message": "required"}]),
                  "forbidden": Forbidden("not your unit")}
        raise errors[kind]

    @rpc
    def slow(self, seconds):
        time.sleep(seconds)
        return "late"

    @rpc
    def correlation(self):
        return current_correlation_id()


@pytest.fixture
def gateway(rabbit_config, tmp_path, namespace, make_gateway):
    app = make_gateway(GatewaySettings(PORTAL_VAR_DIR=str(tmp_path), RPC_TIMEOUT_S="1",
                                     AMQP_URI=rabbit_config["AMQP_URI"]))
    probe = Blueprint("probe", __name__)

    @probe.get("/probe/<action>/<arg>")
    @operation(tags=["test"])
    def call(action, arg):
        """Calls the probe service."""
        rpc = current_app.extensions["rpc"]
        if action == "slow":
            return jsonify(rpc.call("gateway_probe", "slow", float(arg)))
        if action == "correlation":
            return jsonify(rpc.call("gateway_probe", "correlation"))
        return jsonify(rpc.call("gateway_probe", "fail", arg))

    app.register_blueprint(probe)
    return app.test_client()


def test_typed_remote_errors_keep_their_status(gateway, start_service):
    start_service(Probe)
    for kind, status in (("missing", 404), ("conflict", 409), ("invalid", 422),
                         ("forbidden", 403)):
        response = gateway.get(f"/probe/fail/{kind}")
        assert response.status_code == status, kind
        assert response.content_type == "application/problem+json"
    assert gateway.get("/probe/fail/invalid").json["errors"] == [
        {"field": "title", "message": "required"}]


def test_a_slow_service_is_a_504_and_a_stopped_one_a_503(gateway, start_service):
    container = start_service(Probe)
    assert gateway.get("/probe/slow/0").json == "late"
    slow = gateway.get("/probe/slow/3")
    assert slow.status_code == 504 and slow.content_type == "application/problem+json"

    container.stop()
    stopped = gateway.get("/probe/slow/0")
    assert stopped.status_code == 503
    assert "not running" in stopped.json["detail"] and stopped.headers["Retry-After"]
    never_started = gateway.get("/api/v1/categories")  # no news service in this vhost
    assert never_started.status_code == 503


def test_the_request_id_travels_into_the_service(gateway, start_service):
    start_service(Probe)
    answer = gateway.get("/probe/correlation/x", headers={"X-Request-ID": "req-from-browser-42"})
    assert answer.json == "req-from-browser-42"
    made = gateway.get("/probe/correlation/x")
    assert made.json == made.headers["X-Request-ID"] and len(made.json) == 32
