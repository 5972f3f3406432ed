"""Feedback intake: a submission is on the broker's disk before the sender gets ``202``.

Unlike page views (buffered, published in the background), each submission is published by the
request's own thread on a pooled pika connection in confirm mode, as a persistent message to the
durable quorum queue ``feedback.intake`` (declared here exactly as the feedback service declares
it), with ``mandatory`` set. ``submit`` returns only when RabbitMQ confirmed it — a quorum queue
confirms once a majority of its replicas wrote it to disk — and raises ``ServiceUnavailable``
otherwise, so the client gets ``503`` and knows nothing was accepted. The feedback service, or
its database, may be stopped meanwhile: the message waits in the queue.
"""
from __future__ import annotations

import json
import logging

import pika
from pika.exceptions import AMQPError
from prometheus_client import Counter

from gateway.pool import BoundedPool
from gateway.problems import ServiceUnavailable
from portal_common.schemas.feedback import (
    INTAKE_DEAD_LETTER_EXCHANGE, INTAKE_DEAD_LETTER_KEY, INTAKE_DEAD_LETTER_QUEUE, INTAKE_QUEUE,
    INTAKE_QUEUE_ARGUMENTS)

log = logging.getLogger(__name__)

SUBMITTED = Counter("portal_feedback_submitted_total",
                    "Feedback submissions confirmed by the broker (202)", ["channel"])
REFUSED = Counter("portal_feedback_refused_total",
                  "Feedback submissions not accepted because the broker did not confirm (503)")
HONEYPOT = Counter("portal_feedback_honeypot_total",
                   "Submissions with the honeypot field filled: answered 202, not stored")


def declare_intake(channel) -> None:
    """The dead-letter exchange and queue, and the intake queue, as the service declares them."""
    channel.exchange_declare(INTAKE_DEAD_LETTER_EXCHANGE, exchange_type="direct", durable=True)
    channel.queue_declare(INTAKE_DEAD_LETTER_QUEUE, durable=True,
                          arguments={"x-queue-type": "quorum"})
    channel.queue_bind(INTAKE_DEAD_LETTER_QUEUE, INTAKE_DEAD_LETTER_EXCHANGE,
                       routing_key=INTAKE_DEAD_LETTER_KEY)
    channel.queue_declare(INTAKE_QUEUE, durable=True, arguments=dict(INTAKE_QUEUE_ARGUMENTS))


class _Link:
    """One connection + confirming channel; used by one thread at a time."""

    def __init__(self, params: pika.URLParameters):
        self.connection = pika.BlockingConnection(params)
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()
        declare_intake(self.channel)

    def publish(self, body: bytes, message_id: str, correlation_id: str | None) -> None:
        self.channel.basic_publish(
            exchange="", routing_key=INTAKE_QUEUE, body=body, mandatory=True,
            properties=pika.BasicProperties(
                content_type="application/json", content_encoding="utf-8",
                delivery_mode=pika.DeliveryMode.Persistent, message_id=message_id,
                correlation_id=correlation_id))

    @property
    def usable(self) -> bool:
        return self.connection.is_open and self.channel.is_open

    def close(self) -> None:
        try:
            if self.connection.is_open:
                self.connection.close()
        except Exception:  # closing a broken connection is best effort
            pass


class IntakePublisher:
    def __init__(self, amqp_uri: str, *, size: int = 8, timeout: float = 5.0):
        self.params = pika.URLParameters(amqp_uri)
        self.params.connection_attempts = 1
        self.params.socket_timeout = timeout
        self.params.blocked_connection_timeout = timeout
        self.params.heartbeat = 60
        self._pool: BoundedPool[_Link] = BoundedPool(
            self._connect, _Link.close, size=size, timeout=timeout, usable=lambda link: link.usable,
            busy=ServiceUnavailable("too many submissions right now; try again", retry_after=2))

    def _connect(self) -> _Link:
        try:
            return _Link(self.params)
        except (AMQPError, OSError) as exc:
            raise ServiceUnavailable("the message broker cannot be reached; nothing was "
                                     "accepted, try again") from exc

    def submit(self, message: dict, channel: str = "public") -> None:
        """Publish one intake message and wait for the broker's confirmation."""
        body = json.dumps(message, ensure_ascii=False).encode("utf-8")
        for attempt in (1, 2):  # a pooled connection may have died since its last use
            link = self._pool.borrow()
            try:
                link.publish(body, message["tracking_code"], message.get("correlation_id"))
            except (AMQPError, OSError) as exc:
                self._pool.discard(link)
                if attempt == 2 or isinstance(exc, (pika.exceptions.UnroutableError,
                                                    pika.exceptions.NackError)):
                    REFUSED.inc()
                    log.warning("feedback %s not confirmed by the broker: %r",
                                message["tracking_code"], exc)
                    raise ServiceUnavailable("the message broker did not accept the "
                                             "submission; nothing was stored, try again") from exc
                continue
            self._pool.give_back(link)
            SUBMITTED.labels(channel).inc()
            return

    def close(self) -> None:
        self._pool.close()
