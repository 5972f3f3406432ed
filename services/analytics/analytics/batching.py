"""``batch_event_handler``: consume one event type in batches, under the platform's rules.

Nameko's event handler runs one worker per message, each with its own database round trips;
page views arrive thousands a second, so they are taken in batches instead: up to
``max_batch`` messages, or whatever arrived within ``max_wait`` seconds, go to ONE worker call
``handle(self, events)`` and are acknowledged together once it returned. While one batch is
being stored, the next is read and checked (two batches in workers at most; acknowledged in
order).

The rules of ``portal_common.events.consumer.event_handler`` hold here too: the same quorum
queue (name, delivery limit, dead-letter exchange), so switching between the two keeps the
queue; a body that is not JSON or breaks the catalogue is dead-lettered at once; a backend
outage is waited out (up to five minutes) while the batch is held; and a handler error retries
the batch one event at a time, so only the event that fails is requeued (and dead-lettered
after the delivery limit), never its neighbours. Idempotence is the handler's job (the page
view store keys every hit by its event id).
"""
from __future__ import annotations

import logging
import time
from collections import deque

import eventlet
from eventlet.event import Event
from kombu import Connection, Consumer, Exchange, Queue
from nameko.extensions import Entrypoint
from prometheus_client import Counter, Histogram

from portal_common.errors import BACKEND_UNAVAILABLE
from portal_common.events import catalogue
# the shared retry is renamed: this module's decorator ``wait_out_outages`` wraps it
from portal_common.events.consumer import (DEAD_LETTER_EXCHANGE, DELIVERY_LIMIT,
                                           EVENTS_CONSUMED, DeadLetterDepth,
                                           dead_letter_queue_name,
                                           wait_out_outages as retry_through_outages)

log = logging.getLogger(__name__)

PIPELINE = 2  # batches in workers at once: the next is read and checked while one is stored
BATCH_SIZE = Histogram("portal_event_batch_size", "Events per consumed batch", ["consumer"],
                       buckets=(1, 5, 10, 50, 100, 250, 500, 1000))
BATCH_FAILURES = Counter("portal_event_batch_failures_total",
                         "Batches whose handler failed (retried one event at a time)",
                         ["consumer"])


class BatchEventHandler(Entrypoint):
    def __init__(self, source_service: str, event_type: str, max_batch: int = 500,
                 max_wait: float = 0.05, **kwargs):
        catalogue.spec_for(source_service, event_type)  # fail at import if unknown
        self.source_service = source_service
        self.event_type = event_type
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._stopping = False
        self._thread = None
        super().__init__(**kwargs)

    @property
    def consumer_name(self) -> str:
        return f"{self.container.service_name}.{self.method_name}"

    def setup(self):
        service = self.container.service_name
        self.amqp_uri = self.container.config["AMQP_URI"]
        exchange = Exchange(catalogue.exchange_for(self.source_service), type="topic",
                            durable=True, auto_delete=False)
        # Nameko's queue name for an event handler: the same queue either way
        self.queue = Queue(
            f"evt-{self.source_service}-{self.event_type}--{service}.{self.method_name}",
            exchange=exchange, routing_key=self.event_type, durable=True, auto_delete=False,
            queue_arguments={"x-queue-type": "quorum", "x-delivery-limit": DELIVERY_LIMIT,
                             "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
                             "x-dead-letter-routing-key": service})
        dlq = Queue(dead_letter_queue_name(service),
                    exchange=Exchange(DEAD_LETTER_EXCHANGE, type="direct", durable=True),
                    routing_key=service, durable=True,
                    queue_arguments={"x-queue-type": "quorum"})
        with Connection(self.amqp_uri) as conn:
            dlq(conn.default_channel).declare()
            self.queue(conn.default_channel).declare()  # before anyone publishes
        DeadLetterDepth.watch(dlq.name, self.amqp_uri)

    def start(self):
        self._thread = self.container.spawn_managed_thread(
            self._run, identifier=f"batch consumer {self.consumer_name}")

    def stop(self):
        self._stopping = True
        if self._thread is not None:
            self._thread.wait()

    def kill(self):
        self._stopping = True
        if self._thread is not None:
            self._thread.kill()

    # -- the consumer loop (one green thread; the only user of its connection) -----------------
    def _run(self):
        backoff = 0.5
        while not self._stopping:
            try:
                self._consume()
                backoff = 0.5
            except Exception as exc:  # broker away: unacked messages go back to the queue
                if self._stopping:
                    break
                log.warning("%s lost the broker (%s); reconnecting in %.1fs",
                            self.consumer_name, exc, backoff)
                eventlet.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    def _consume(self):
        with Connection(self.amqp_uri, heartbeat=30) as conn:
            channel = conn.channel()
            channel.basic_qos(0, self.max_batch * (PIPELINE + 1), False)
            pending: list = []
            in_flight: deque = deque()  # batches handed to workers, settled in order
            consumer = Consumer(channel, [self.queue], on_message=pending.append,
                                accept=["json"], auto_declare=True)
            with consumer:
                while not self._stopping or in_flight:
                    self._settle(conn, in_flight, wait=len(in_flight) >= PIPELINE
                                 or self._stopping)
                    if self._stopping:
                        continue
                    self._fill(conn, pending, idle=0.005 if in_flight else 1.0)
                    if pending:
                        batch, pending[:] = list(pending), []
                        self._dispatch(batch, in_flight)

    def _fill(self, conn, pending: list, idle: float) -> None:
        conn.heartbeat_check()
        deadline = time.monotonic() + self.max_wait
        while len(pending) < self.max_batch and not self._stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0 and pending:
                return
            try:
                conn.drain_events(timeout=max(remaining, 0.001) if pending else idle)
            except TimeoutError:  # socket.timeout
                conn.heartbeat_check()
                return

    def _dispatch(self, messages: list, in_flight: deque) -> None:
        """Dead-letter what breaks the catalogue; hand the rest to a worker."""
        valid = []
        for count, message in enumerate(messages, start=1):
            if count % 50 == 0:
                eventlet.sleep(0)  # checking is CPU work: let RPC workers answer meanwhile
            try:
                body = message.decode()
                catalogue.validate(body)
            except (catalogue.UnknownEvent, catalogue.InvalidEvent) as exc:
                self._dead_letter(message, "rejected", exc)
                continue
            except Exception as exc:  # not JSON at all
                self._dead_letter(message, "undecodable", exc)
                continue
            valid.append((message, body))
        if valid:
            BATCH_SIZE.labels(self.consumer_name).observe(len(valid))
            in_flight.append((valid, self._spawn([body for _, body in valid])))

    def _settle(self, conn, in_flight: deque, wait: bool) -> None:
        """Acknowledge finished batches, oldest first (a multiple ack covers exactly one batch,
        since every earlier delivery is settled by then)."""
        while in_flight and (wait or in_flight[0][1].ready()):
            valid, done = in_flight.popleft()
            outcome = self._outcome(conn, done)
            wait = False
            if outcome == "ok":
                valid[-1][0].ack(multiple=True)
                EVENTS_CONSUMED.labels(self.consumer_name, self.event_type,
                                       "processed").inc(len(valid))
            elif outcome == "unavailable":  # held for five minutes already: give them back
                for message, _ in valid:
                    message.requeue()
            else:
                BATCH_FAILURES.labels(self.consumer_name).inc()
                for message, body in valid:  # isolate the event that fails
                    if self._outcome(conn, self._spawn([body])) == "ok":
                        message.ack()
                        EVENTS_CONSUMED.labels(self.consumer_name, self.event_type,
                                               "processed").inc()
                    else:
                        message.requeue()  # counts against the delivery limit
                        EVENTS_CONSUMED.labels(self.consumer_name, self.event_type,
                                               "failed").inc()

    def _dead_letter(self, message, outcome: str, exc: Exception) -> None:
        log.error("event %s to %s: %s", outcome, dead_letter_queue_name(
            self.container.service_name), exc)
        EVENTS_CONSUMED.labels(self.consumer_name, self.event_type, outcome).inc()
        message.reject(requeue=False)

    def _spawn(self, events: list[dict]) -> Event:
        """Run the handler in a worker; the returned event gets its exc_info (None if fine)."""
        done = Event()

        def handle_result(worker_ctx, result, exc_info):
            done.send(exc_info)
            return result, exc_info

        self.container.spawn_worker(self, (events,), {}, context_data={},
                                    handle_result=handle_result)
        return done

    def _outcome(self, conn, done: Event) -> str:
        """Wait (keeping the connection alive) for a worker: ok, unavailable or failed."""
        while not done.ready():
            done.wait(timeout=5)
            conn.heartbeat_check()
        exc_info = done.wait()
        if exc_info is None:
            return "ok"
        if isinstance(exc_info[1], BACKEND_UNAVAILABLE):
            return "unavailable"
        log.error("%s failed: %r", self.consumer_name, exc_info[1])
        return "failed"


def wait_out_outages(handler):
    """Run ``handler`` again with backoff while a backend does not answer (≤ five minutes)."""

    def run(service, events):
        return retry_through_outages(lambda: handler(service, events), handler.__name__)

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


def batch_event_handler(source_service: str, event_type: str, **kwargs):
    """Decorate ``handle_<event>(self, events)``: it gets a list of validated envelopes."""
    entrypoint = BatchEventHandler.decorator(source_service, event_type, **kwargs)

    def decorate(handler):
        return entrypoint(wait_out_outages(handler))

    return decorate
