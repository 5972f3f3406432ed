"""A failing dependency is a prompt 503 problem document, never a hang or a 500.

The failures are real: connections to a port where nothing listens, a service that is not
running, a service whose database does not answer.
"""
import time

import pytest

from gateway.problems import ServiceUnavailable
from gateway.rpc import RpcPool
from gateway.settings import GatewaySettings
from news.service import NewsService

CLOSED = "127.0.0.1:9"  # the discard port: nothing listens there on these machines


@pytest.fixture
def gateway(tmp_path, make_gateway):
    """A gateway test client with these settings (keyword arguments)."""
    def make(**env):
        settings = GatewaySettings(**{"PORTAL_VAR_DIR": str(tmp_path), "RPC_TIMEOUT_S": 2, **env})
        return make_gateway(settings).test_client()
    return make


def test_with_the_broker_unreachable_reads_are_503_with_retry_after(gateway):
    client = gateway(AMQP_URI=f"amqp://guest:guest@{CLOSED}/")
    started = time.monotonic()
    response = client.get("/api/v1/categories")
    assert time.monotonic() - started < 10
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"]
    assert response.get_json()["status"] == 503


def test_readiness_names_the_server_that_is_down(gateway):
    client = gateway(AMQP_URI=f"amqp://guest:guest@{CLOSED}/",
                     ELASTICSEARCH_URL=f"http://{CLOSED}")
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = {c["name"]: c["ok"] for c in response.get_json()["checks"]}
    assert checks == {"rabbitmq": False, "mongodb": True, "elasticsearch": False}


def test_a_service_that_is_not_running_is_503(service_config):
    pool = RpcPool(service_config["AMQP_URI"], size=1, timeout=2)
    try:
        with pytest.raises(ServiceUnavailable, match="not running"):
            pool.call("no_such_service", "anything")
    finally:
        pool.close()


def test_a_service_whose_database_is_down_answers_503_through_the_gateway(
        start_service, service_config, monkeypatch, gateway):
    from portal_common.settings import get_settings

    working_uri = get_settings().mongo_uri
    monkeypatch.setenv("MONGO_URI", f"mongodb://{CLOSED}/")
    monkeypatch.setenv("MONGO_TIMEOUT_MS", "300")
    get_settings.cache_clear()
    start_service(NewsService)  # starts although its database does not answer
    monkeypatch.setenv("MONGO_URI", working_uri)  # for the test's own clean-up
    get_settings.cache_clear()

    # the gateway's own database is fine
    client = gateway(AMQP_URI=service_config["AMQP_URI"], RPC_TIMEOUT_S=10,
                     MONGO_URI=working_uri)
    response = client.get("/api/v1/categories")
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
