"""Consumers count an event once, and poison never blocks a queue (analytics, real broker)."""
import pytest
from nameko.testing.services import entrypoint_hook

from analytics.service import AnalyticsService
from portal_common.events import new_event, utc_now_iso
from portal_common.events.consumer import (DeadLetterDepth, dead_letter_queue_name,
                                           event_handler)
from tests.bus import wait_until


def _page_view(path="/tin-tuc"):
    return new_event("gateway", "page_viewed", {"path": path, "referrer": None, "title": None,
                                                "visitor": "0" * 32, "viewed_at": utc_now_iso()})


def _total(container):
    with entrypoint_hook(container, "visitors") as visitors:
        return visitors()["total"]


def test_a_redelivered_page_view_is_counted_once(start_service, bus):
    container = start_service(AnalyticsService)
    event = _page_view()
    for _ in range(3):  # the broker may deliver the same event again; so may a republisher
        bus.publish(event)
    other = _page_view("/van-ban")
    bus.publish(other)

    assert wait_until(lambda: _total(container) == 2, timeout=10)
    bus.publish(event)
    bus.publish(other)
    assert not wait_until(lambda: _total(container) != 2, timeout=2)


def test_an_event_that_breaks_the_catalogue_goes_to_the_dead_letter_queue(start_service, bus):
    container = start_service(AnalyticsService)
    bus.publish_raw("gateway.events", "page_viewed", b'{"type": "page_viewed", "data": {}}')

    dead = bus.get_one(dead_letter_queue_name("analytics"), timeout=10)
    assert dead == {"type": "page_viewed", "data": {}}
    assert _total(container) == 0


class AlwaysFails:
    name = "always_fails"

    @event_handler("gateway", "page_viewed")
    def handle_page_viewed(self, event):
        raise RuntimeError("this handler cannot process anything")


def test_a_handler_that_keeps_failing_sends_the_event_to_the_dead_letter_queue(start_service, bus):
    start_service(AlwaysFails)
    event = _page_view()
    bus.publish(event)

    dead = bus.get_one(dead_letter_queue_name("always_fails"), timeout=20)
    assert dead is not None and dead["event_id"] == event["event_id"]


def test_an_undecodable_message_is_dead_lettered_counted_and_does_not_stop_the_service(
        start_service, bus):
    from prometheus_client import REGISTRY

    container = start_service(AnalyticsService)
    bus.publish_raw("gateway.events", "page_viewed", b"not even json")
    queue = dead_letter_queue_name("analytics")

    def depth():
        return REGISTRY.get_sample_value("portal_dead_letter_messages", {"queue": queue})

    assert wait_until(lambda: depth() == 1, timeout=15)
    bus.publish(_page_view())
    assert wait_until(lambda: _total(container) == 1, timeout=10)


def _scrape_dead_letter_depths() -> dict[str, float]:
    """One Prometheus scrape of the gauge, as {queue: depth}."""
    from prometheus_client import REGISTRY

    return {sample.labels["queue"]: sample.value for family in REGISTRY.collect()
            if family.name == "portal_dead_letter_messages" for sample in family.samples}


@pytest.fixture
def scrape_connections(monkeypatch):
    """Only this test's queues are watched; returns the list of the connections opened since."""
    from kombu import Connection

    from portal_common.events import consumer

    opened = []

    class CountedConnection(Connection):  # a real connection, counted
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            opened.append(self.as_uri())

    monkeypatch.setattr(consumer.DeadLetterDepth, "_queues", {})
    monkeypatch.setattr(consumer, "Connection", CountedConnection)
    return opened


def test_one_scrape_reads_every_dead_letter_queue_of_a_broker_on_one_connection(
        rabbit_config, bus, scrape_connections):
    amqp_uri = rabbit_config["AMQP_URI"]
    first, second = dead_letter_queue_name("depth_one"), dead_letter_queue_name("depth_two")
    for queue, messages in ((first, 2), (second, 3)):
        bus.channel.queue_declare(queue, durable=True)
        for _ in range(messages):
            bus.channel.basic_publish("", queue, b"{}")
    # a queue counts a message a moment after its publish
    assert wait_until(lambda: (bus.queue_depth(first), bus.queue_depth(second)) == (2, 3))
    # the missing queue sits between the two: its channel error must not cost the second one
    for queue in (first, dead_letter_queue_name("never_declared"), second):
        DeadLetterDepth.watch(queue, amqp_uri)
    scrape_connections.clear()  # registering the gauge (first watch in this process) scrapes once

    assert _scrape_dead_letter_depths() == {first: 2, second: 3}
    assert len(scrape_connections) == 1


def test_a_broker_that_is_away_only_loses_its_own_dead_letter_samples(
        rabbit_config, bus, scrape_connections):
    queue = dead_letter_queue_name("depth_here")
    bus.channel.queue_declare(queue, durable=True)
    DeadLetterDepth.watch(queue, rabbit_config["AMQP_URI"])
    DeadLetterDepth.watch("elsewhere.dead-letters", "amqp://guest:guest@127.0.0.1:9/")
    scrape_connections.clear()

    assert _scrape_dead_letter_depths() == {queue: 0}
    assert len(scrape_connections) == 2  # one connection per broker


def test_events_wait_out_a_database_outage_instead_of_being_dead_lettered(
        start_service, bus, monkeypatch):
    from portal_common.settings import get_settings

    working_uri = get_settings().mongo_uri
    monkeypatch.setenv("MONGO_URI", "mongodb://127.0.0.1:9/")  # nothing listens there
    monkeypatch.setenv("MONGO_TIMEOUT_MS", "200")
    get_settings.cache_clear()
    without_db = start_service(AnalyticsService)
    bus.publish(_page_view("/trong-luc-co-so-du-lieu-dung"))

    # far longer than five failed deliveries would take: the event is held, not dead-lettered
    assert not wait_until(lambda: bus.queue_depth(dead_letter_queue_name("analytics")), timeout=6)
    without_db.kill()  # the held event goes back to its queue

    monkeypatch.setenv("MONGO_URI", working_uri)
    get_settings.cache_clear()
    container = start_service(AnalyticsService)
    assert wait_until(lambda: _total(container) == 1, timeout=15)
    assert bus.queue_depth(dead_letter_queue_name("analytics")) == 0
