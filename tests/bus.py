"""A test's view of the event bus: bind queues to exchanges, publish envelopes, collect events."""
from __future__ import annotations

import json
import time

import pika

from portal_common.events import catalogue
from portal_common.events.publisher import ConfirmingPikaPublisher


class Bus:
    def __init__(self, amqp_uri: str):
        self.amqp_uri = amqp_uri
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
        self.channel = self.connection.channel()
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.publisher = ConfirmingPikaPublisher(amqp_uri)

    def listen(self, source: str, routing_key: str = "#") -> "Bus":
        exchange = catalogue.exchange_for(source)
        self.channel.exchange_declare(exchange, exchange_type="topic", durable=True)
        self.channel.queue_bind(self.queue, exchange, routing_key=routing_key)
        return self

    def publish(self, envelope: dict) -> None:
        self.publisher.publish(envelope)

    def publish_raw(self, exchange: str, routing_key: str, body: bytes) -> None:
        """Publish bytes that bypass the catalogue (to test what consumers do with them)."""
        self.channel.exchange_declare(exchange, exchange_type="topic", durable=True)
        self.channel.basic_publish(exchange, routing_key, body, pika.BasicProperties(
            content_type="application/json", delivery_mode=2))

    def collect(self, count: int = 1, timeout: float = 10.0) -> list[dict]:
        """Wait for ``count`` events (or the timeout) and return what arrived."""
        events, deadline = [], time.monotonic() + timeout
        while len(events) < count and time.monotonic() < deadline:
            method, _props, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                self.connection.sleep(0.05)
                continue
            events.append(json.loads(body))
        return events

    def queue_depth(self, queue: str) -> int:
        return self.channel.queue_declare(queue, passive=True).method.message_count

    def get_one(self, queue: str, timeout: float = 10.0) -> dict | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            method, _props, body = self.channel.basic_get(queue, auto_ack=True)
            if method is not None:
                return json.loads(body)
            self.connection.sleep(0.1)
        return None

    def close(self) -> None:
        self.publisher.close()
        try:
            self.connection.close()
        except Exception:
            pass


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.1):
    """Poll ``predicate`` until it returns a truthy value; return it, or the last falsy one."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
