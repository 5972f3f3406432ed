"""Publishing events: validated against the catalogue, persistent, with publisher confirms.

Two publishers share the rules: ``EventPublisher`` is a Nameko dependency for services (kombu,
through Nameko's own ``Publisher``); ``ConfirmingPikaPublisher`` is a plain pika client for
processes that are not Nameko services (the gateway, tools, benchmarks).
"""
from __future__ import annotations

import json
import logging
import threading
from typing import Any, Callable

import pika
from nameko.amqp.publish import Publisher as NamekoPublisher
from nameko.constants import PERSISTENT
from nameko.extensions import DependencyProvider
from kombu import Exchange
from prometheus_client import Counter

from portal_common.events import catalogue
from portal_common.logs import current_correlation_id

log = logging.getLogger(__name__)

EVENTS_PUBLISHED = Counter(
    "portal_events_published_total", "Events confirmed by the broker", ["source", "type"])

CORRELATION_HEADER = "nameko.correlation_id"  # Nameko turns "nameko.*" headers into context data


def _headers(envelope: dict[str, Any]) -> dict[str, Any]:
    cid = envelope.get("correlation_id") or current_correlation_id()
    return {CORRELATION_HEADER: cid} if cid else {}


class EventPublisher(DependencyProvider):
    """``publish(envelope)`` for a Nameko worker; returns once the broker confirmed it."""

    def setup(self):
        self.amqp_uri = self.container.config["AMQP_URI"]
        self.publisher = NamekoPublisher(
            self.amqp_uri, use_confirms=True, delivery_mode=PERSISTENT, serializer="json")
        self.exchanges: dict[str, Exchange] = {}

    def publish(self, envelope: dict[str, Any]) -> None:
        spec = catalogue.validate(envelope)
        exchange = self.exchanges.get(spec.exchange)
        if exchange is None:
            exchange = self.exchanges[spec.exchange] = Exchange(
                spec.exchange, type="topic", durable=True, auto_delete=False)
        self.publisher.publish(
            envelope, exchange=exchange, routing_key=spec.type, declare=[exchange],
            headers=_headers(envelope), message_id=envelope["event_id"],
            retry=True, retry_policy={"max_retries": 3, "interval_start": 0.2,
                                      "interval_step": 0.5, "interval_max": 2})
        EVENTS_PUBLISHED.labels(spec.source, spec.type).inc()

    def get_dependency(self, worker_ctx) -> Callable[[dict[str, Any]], None]:
        return self.publish


class ConfirmingPikaPublisher:
    """A pika connection in confirm mode; one per thread (pika is not thread-safe).

    ``publish`` raises if the broker does not confirm; callers decide whether to retry.
    """

    def __init__(self, amqp_uri: str, connection_attempts: int = 1, timeout: float = 5.0):
        self.params = pika.URLParameters(amqp_uri)
        self.params.connection_attempts = connection_attempts
        self.params.socket_timeout = timeout
        self.params.blocked_connection_timeout = timeout
        self.params.heartbeat = 30
        self._connection: pika.BlockingConnection | None = None
        self._channel = None
        self._declared: set[str] = set()
        self._lock = threading.Lock()

    def _ensure_channel(self):
        if self._channel is None or not self._channel.is_open:
            self.close()
            self._connection = pika.BlockingConnection(self.params)
            self._channel = self._connection.channel()
            self._channel.confirm_delivery()
            self._declared.clear()
        return self._channel

    def publish(self, envelope: dict[str, Any]) -> None:
        spec = catalogue.validate(envelope)
        with self._lock:
            try:
                channel = self._ensure_channel()
                if spec.exchange not in self._declared:
                    channel.exchange_declare(spec.exchange, exchange_type="topic", durable=True)
                    self._declared.add(spec.exchange)
                channel.basic_publish(
                    exchange=spec.exchange, routing_key=spec.type,
                    body=json.dumps(envelope, ensure_ascii=False).encode("utf-8"),
                    properties=pika.BasicProperties(
                        content_type="application/json", content_encoding="utf-8",
                        delivery_mode=pika.DeliveryMode.Persistent,
                        message_id=envelope["event_id"], headers=_headers(envelope)),
                )
            except Exception:
                self.close()  # a broken connection is rebuilt on the next call
                raise
        EVENTS_PUBLISHED.labels(spec.source, spec.type).inc()

    def close(self) -> None:
        conn, self._connection, self._channel = self._connection, None, None
        if conn is not None and conn.is_open:
            try:
                conn.close()
            except Exception:  # closing a dead connection is best effort
                pass
