"""Fixtures for in-process services against the real servers (see tests/conftest.py)."""
import pytest

from tests.bus import Bus


@pytest.fixture
def bus(rabbit_config):
    bus = Bus(rabbit_config["AMQP_URI"])
    yield bus
    bus.close()


@pytest.fixture
def start_service(container_factory, service_config, namespace):
    """Start a Nameko service class in this test's vhost and namespace; returns the container."""
    def start(service_cls, **config_overrides):
        container = container_factory(service_cls, {**service_config, **config_overrides})
        container.start()
        return container
    return start
