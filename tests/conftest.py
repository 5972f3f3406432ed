"""Test setup shared by every layer.

What is real and what is not: unit tests (tests/unit) touch no server. Integration tests
(tests/integration) run Nameko services in this process against the REAL RabbitMQ, MongoDB-
protocol server (FerretDB locally) and Elasticsearch named by AMQP_URI, MONGO_URI and
ELASTICSEARCH_URL; end-to-end tests (tests/e2e) start the real service processes and the
gateway and talk HTTP to it. Nothing of those servers is mocked.

Isolation: every integration test gets its own RabbitMQ vhost (Nameko's ``rabbit_config``,
through the management API) and its own namespace (``PORTAL_NAMESPACE``), which prefixes its
MongoDB databases and Elasticsearch indices; both are deleted afterwards. The suite can run
twice in a row and in any order.
"""
import os

# Must precede any eventlet import: see portal_common/nameko_cli.py for why.
os.environ.setdefault("EVENTLET_NO_GREENDNS", "yes")

import eventlet  # noqa: E402

# Services run monkey-patched in production (nameko run); tests run under the same patching.
eventlet.monkey_patch()

import uuid  # noqa: E402
from urllib.parse import urlparse  # noqa: E402

import pytest  # noqa: E402


def pytest_configure(config):
    """Point Nameko's test fixtures at the servers the environment names."""
    amqp = os.environ.get("AMQP_URI")
    if amqp:
        config.option.RABBIT_AMQP_URI = amqp
    management = os.environ.get("RABBIT_MANAGEMENT_URI")
    if management:
        config.option.RABBIT_API_URI = management
    config.option.suppress_eventlet_notification = True


def new_namespace(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@pytest.fixture
def namespace(monkeypatch):
    """A fresh PORTAL_NAMESPACE for one test; its databases and indices are dropped after."""
    from portal_common.settings import get_settings

    name = new_namespace()
    monkeypatch.setenv("PORTAL_NAMESPACE", name)
    get_settings.cache_clear()
    yield name
    drop_namespace(name)
    get_settings.cache_clear()


def drop_namespace(name: str) -> None:
    import requests
    from pymongo import MongoClient

    from portal_common.settings import Settings

    settings = Settings()
    client = MongoClient(settings.mongo_uri, serverSelectionTimeoutMS=3000)
    try:
        for db in client.list_database_names():
            if db.startswith(f"{name}_"):
                client.drop_database(db)
    finally:
        client.close()
    requests.delete(f"{settings.elasticsearch_url.rstrip('/')}/{name}_*",
                    params={"expand_wildcards": "all", "ignore_unavailable": "true"}, timeout=10)


@pytest.fixture
def make_gateway():
    """Builds gateway apps (``create_app(settings)``) and shuts each down after the test
    (``gateway.app.shutdown``), so no listener outlives it retrying a broker that is gone."""
    from gateway.app import create_app, shutdown

    apps = []

    def make(settings):
        app = create_app(settings)
        apps.append(app)
        return app

    yield make
    for app in apps:
        shutdown(app, flush_timeout=0)


@pytest.fixture
def service_config(rabbit_config):
    """Nameko config for an in-process service container, in the test's own vhost."""
    return {"AMQP_URI": rabbit_config["AMQP_URI"], "max_workers": 10, "serializer": "json",
            "WEB_SERVER_ADDRESS": "127.0.0.1:0"}


def vhost_of(amqp_uri: str) -> str:
    return urlparse(amqp_uri).path.lstrip("/") or "/"
