"""Consuming events: validated, idempotent, and never blocking the queue.

``event_handler(source, type)`` replaces Nameko's decorator of the same name and adds the rules
every consumer of the platform follows:

* the envelope is validated against the catalogue; a body that breaks it goes straight to the
  service's dead-letter queue (it would fail the same way every time);
* an ``event_id`` this handler already processed is acknowledged without running it again
  (the record is written after the handler succeeded, in the service's own database);
* while a backend (MongoDB, Elasticsearch) does not answer, the worker waits and tries again,
  holding the message: an outage slows consumption down instead of dead-lettering events;
* a handler that raises anything else is retried by the broker: the queue is a quorum queue
  with a delivery limit, past which RabbitMQ moves the message to ``<service>.dead-letters``.
  A poison message therefore never blocks the queue and never vanishes silently.

Handlers must still be idempotent in their effect, because a crash between the effect and the
record replays the event once more (at-least-once delivery).
"""
from __future__ import annotations

import functools
import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any, Callable

import eventlet
from kombu import Connection, Exchange, Queue
from nameko.events import EventHandler
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import SharedExtension
from nameko.messaging import QueueConsumer
from prometheus_client import REGISTRY, Counter
from prometheus_client.core import GaugeMetricFamily
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError, PyMongoError

from portal_common.errors import BACKEND_UNAVAILABLE
from portal_common.events import catalogue
from portal_common.mongo import make_client
from portal_common.settings import get_settings

log = logging.getLogger(__name__)

DEAD_LETTER_EXCHANGE = "dead-letters"
DELIVERY_LIMIT = 5
# how long an event id is remembered; redeliveries and outbox re-sends come within minutes.
# (FerretDB has no TTL indexes, so the inbox prunes itself.)
PROCESSED_RETENTION = timedelta(days=30)
PRUNE_INTERVAL_S = 3600
# how long a worker holds an event while a backend is down before giving it back to the queue
MAX_OUTAGE_WAIT_S = 300.0
_DUPLICATE = object()

EVENTS_CONSUMED = Counter(
    "portal_events_consumed_total", "Events received by handlers, by outcome",
    ["consumer", "type", "outcome"])  # processed | duplicate | failed | rejected | undecodable


def dead_letter_queue_name(service_name: str) -> str:
    return f"{service_name}.dead-letters"


def wait_out_outages(attempt: Callable[[], Any], who: str) -> Any:
    """Run ``attempt`` again with backoff while MongoDB or Elasticsearch does not answer, for at
    most ``MAX_OUTAGE_WAIT_S``: an outage slows consumption, it does not park events."""
    deadline, delay = time.monotonic() + MAX_OUTAGE_WAIT_S, 0.5
    while True:
        try:
            return attempt()
        except BACKEND_UNAVAILABLE as exc:
            if time.monotonic() >= deadline:
                raise
            log.warning("%s waits for a backend (%s); retrying in %.0fs",
                        who, type(exc).__name__, delay)
            eventlet.sleep(delay)
            delay = min(delay * 2, 10.0)


class Inbox(SharedExtension):
    """Which events each handler of this service has processed (``processed_events``)."""

    def setup(self):
        self.client = make_client(f"{self.container.service_name}-inbox", pool_size=20)
        db = self.client[get_settings().database_name(self.container.service_name)]
        self.collection = db["processed_events"]
        self._next_prune = 0.0

    def prune(self) -> int:
        """Forget event ids older than the retention; returns how many were removed."""
        self._next_prune = time.monotonic() + PRUNE_INTERVAL_S
        cutoff = datetime.now(timezone.utc) - PROCESSED_RETENTION
        try:
            self.collection.create_index([("processed_at", ASCENDING)])
            return self.collection.delete_many({"processed_at": {"$lt": cutoff}}).deleted_count
        except PyMongoError as exc:
            log.warning("processed events not pruned: %s", exc)
            return 0

    def seen(self, consumer: str, event_id: str) -> bool:
        return self.collection.find_one({"_id": f"{consumer}:{event_id}"}, {"_id": 1}) is not None

    def record(self, consumer: str, envelope: dict) -> None:
        try:
            self.collection.insert_one({
                "_id": f"{consumer}:{envelope['event_id']}",
                "type": f"{envelope['source']}.{envelope['type']}",
                "processed_at": datetime.now(timezone.utc),
            })
        except DuplicateKeyError:
            pass  # a concurrent redelivery recorded it first
        if time.monotonic() >= self._next_prune:
            self.prune()

    def stop(self):
        self.client.close()

    kill = stop


class RejectingQueueConsumer(QueueConsumer):
    """Nameko's queue consumer, except that a body that cannot even be decoded is dead-lettered.

    Without this, kombu raises the decode error inside the consumer loop and the whole service
    stops consuming: one malformed message would take the service down.
    """

    def get_consumers(self, consumer_cls, channel):
        consumers = super().get_consumers(consumer_cls, channel)
        for consumer in consumers:
            consumer.on_decode_error = self._reject_undecodable
        return consumers

    def _reject_undecodable(self, message, exc):
        queue = message.delivery_info.get("routing_key", "?")
        log.error("undecodable message (%s) rejected to the dead-letter queue: %s", queue, exc)
        EVENTS_CONSUMED.labels(self.container.service_name, queue, "undecodable").inc()
        message.reject(requeue=False)


class ReliableEventHandler(EventHandler):
    inbox = Inbox()
    queue_consumer = RejectingQueueConsumer()

    def __init__(self, source_service, event_type, **kwargs):
        catalogue.spec_for(source_service, event_type)  # fail at import if unknown
        kwargs.setdefault("requeue_on_error", True)
        super().__init__(source_service, event_type, **kwargs)

    @property
    def consumer_name(self) -> str:
        return f"{self.container.service_name}.{self.method_name}"

    def setup(self):
        super().setup()  # builds self.queue the Nameko way (name, exchange, routing key)
        service = self.container.service_name
        self.queue = Queue(
            self.queue.name, exchange=self.queue.exchange, routing_key=self.queue.routing_key,
            durable=True, auto_delete=False,
            queue_arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": DELIVERY_LIMIT,
                "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
                "x-dead-letter-routing-key": service,
            })
        self._declare_dead_letter_queue(service)

    def _declare_dead_letter_queue(self, service: str) -> None:
        exchange = Exchange(DEAD_LETTER_EXCHANGE, type="direct", durable=True)
        dlq = Queue(dead_letter_queue_name(service), exchange=exchange, routing_key=service,
                    durable=True, queue_arguments={"x-queue-type": "quorum"})
        with Connection(self.container.config["AMQP_URI"]) as conn:
            dlq(conn.default_channel).declare()
        DeadLetterDepth.watch(dlq.name, self.container.config["AMQP_URI"])

    def handle_message(self, body, message):
        """Runs in the consumer loop: only cheap checks here, never a backend call."""
        try:
            catalogue.validate(body)
        except (catalogue.UnknownEvent, catalogue.InvalidEvent) as exc:
            log.error("event rejected to %s: %s", dead_letter_queue_name(
                self.container.service_name), exc)
            EVENTS_CONSUMED.labels(self.consumer_name, self.event_type, "rejected").inc()
            message.reject(requeue=False)  # dead-lettered by the queue's arguments
            return
        # the handler's wrapper (see event_handler) gets this entrypoint as ``_delivery``
        try:
            self.container.spawn_worker(
                self, (body,), {"_delivery": self},
                context_data=self.unpack_message_headers(message),
                handle_result=partial(self.handle_result, message))
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def deliver(self, handler, service, event):
        """Runs in the worker: skip a processed event, run the handler, remember the event."""
        def attempt():
            if self.inbox.seen(self.consumer_name, event["event_id"]):
                return _DUPLICATE
            result = handler(service, event)
            self.inbox.record(self.consumer_name, event)
            return result

        return wait_out_outages(attempt, self.consumer_name)

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is not None:
            outcome = "failed"
        else:
            outcome = "duplicate" if result is _DUPLICATE else "processed"
        EVENTS_CONSUMED.labels(self.consumer_name, self.event_type, outcome).inc()
        super().handle_message_processed(message, result, exc_info)


def event_handler(source_service: str, event_type: str, **kwargs):
    """Decorate a service method ``handle_<event>(self, event)`` as a reliable event handler."""
    entrypoint = ReliableEventHandler.decorator(source_service, event_type, **kwargs)

    def decorate(handler):
        @functools.wraps(handler)
        def deliver(service, event, _delivery):
            return _delivery.deliver(handler, service, event)

        return entrypoint(deliver)

    return decorate


class DeadLetterDepth:
    """Prometheus gauge ``portal_dead_letter_messages{queue}``, read from the broker at scrape."""

    _queues: dict[str, str] = {}
    _lock = threading.Lock()
    _registered = False

    @classmethod
    def watch(cls, queue: str, amqp_uri: str) -> None:
        with cls._lock:
            cls._queues[queue] = amqp_uri
            if not cls._registered:
                REGISTRY.register(cls())
                cls._registered = True

    def collect(self):
        gauge = GaugeMetricFamily("portal_dead_letter_messages",
                                  "Messages waiting in a dead-letter queue", labels=["queue"])
        for amqp_uri, queues in self._queues_by_broker().items():
            for queue, depth in self._depths(amqp_uri, queues).items():
                gauge.add_metric([queue], depth)
        yield gauge

    @classmethod
    def _queues_by_broker(cls) -> dict[str, list[str]]:
        """Every scrape pays one connection per broker, not one per watched queue.

        No lock: registering runs a first collect, inside ``watch``, which holds the lock.
        """
        grouped: dict[str, list[str]] = {}
        for queue, amqp_uri in list(cls._queues.items()):
            grouped.setdefault(amqp_uri, []).append(queue)
        return grouped

    @staticmethod
    def _depths(amqp_uri: str, queues: list[str]) -> dict[str, int]:
        """The depths that could be read; a queue missing here only lacks its sample.

        A passive declare of a queue that does not exist makes the broker close the channel,
        so the next queue gets a fresh one on the same connection. A broker that is away must
        not fail (nor stall) the scrape: one connection attempt, with a short timeout.
        """
        depths: dict[str, int] = {}
        try:
            with Connection(amqp_uri, connect_timeout=1) as conn:
                conn.ensure_connection(max_retries=0)  # kombu would otherwise retry after 2 s
                channel = None
                for queue in queues:
                    try:
                        if channel is None:
                            channel = conn.channel()
                        depths[queue] = channel.queue_declare(queue, passive=True).message_count
                    except conn.channel_errors as exc:
                        log.debug("depth of %s unknown: %s", queue, exc)
                        channel = None  # py-amqp reopens it, other transports may not
        except Exception as exc:  # a scrape must not fail because the broker is away
            log.debug("depth of %s unknown: %s",
                      ", ".join(queue for queue in queues if queue not in depths), exc)
        return depths

