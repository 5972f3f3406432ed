"""Page-view beacons to ``gateway.page_viewed`` events, without making the reader wait.

A request puts the event in a bounded buffer and gets its ``202`` at once. One thread per
worker process drains the buffer into RabbitMQ with pika: persistent messages on a channel in
confirm mode, published in batches (up to ``max_batch`` at a time, up to ``max_in_flight``
awaiting their confirm) instead of one round trip each. An event leaves memory only when the
broker confirmed it; a nack or a lost connection puts the unconfirmed ones back in line, and
the thread reconnects with backoff while the broker is away. When the buffer is full the hit
is refused (``503``) and counted in ``portal_pageviews_dropped_total``: nothing is dropped
silently.
"""
from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import deque

import pika
from pika.spec import Basic
from prometheus_client import Counter, Gauge

from portal_common.events import catalogue
from portal_common.events.publisher import CORRELATION_HEADER, EVENTS_PUBLISHED

log = logging.getLogger(__name__)

DROPPED = Counter("portal_pageviews_dropped_total", "Page views refused because the buffer was full")
BUFFERED = Gauge("portal_pageviews_buffered", "Page views waiting to be published")
REPUBLISHED = Counter("portal_pageviews_republished_total",
                      "Page views published again after a nack or a lost connection")

EXCHANGE = catalogue.exchange_for("gateway")
ROUTING_KEY = "page_viewed"
IDLE_POLL_S = 0.01


class PageViewPublisher:
    def __init__(self, amqp_uri: str, capacity: int, *, max_batch: int = 500,
                 max_in_flight: int = 2000):
        self.amqp_uri = amqp_uri
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self.buffer: queue.Queue[dict] = queue.Queue(maxsize=capacity)
        self._retry: deque[dict] = deque()      # only the publisher thread touches these two
        self._in_flight: dict[int, dict] = {}
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    # -- request threads ---------------------------------------------------------------------
    def offer(self, envelope: dict) -> bool:
        """Queue one event for publication; False when the buffer is full."""
        catalogue.validate(envelope)  # fail in the request, never in the publisher thread
        self._ensure_thread()
        try:
            self.buffer.put_nowait(envelope)
        except queue.Full:
            DROPPED.inc()
            return False
        BUFFERED.set(self.pending())
        return True

    def pending(self) -> int:
        """Events accepted but not yet confirmed by the broker."""
        return self.buffer.qsize() + len(self._retry) + len(self._in_flight)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every accepted event is confirmed (used at shutdown and by tests)."""
        deadline = time.monotonic() + timeout
        while self.pending() and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self.pending()

    def stop(self, timeout: float = 10.0) -> bool:
        """Publish what is buffered (up to ``timeout``), then stop; False if events remain."""
        drained = self.flush(timeout) if self._thread is not None else not self.pending()
        self._stopping.set()
        return drained

    def _ensure_thread(self) -> None:
        # started lazily so that it lives in the worker process, after gunicorn forked
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="pageview-publisher",
                                                    daemon=True)
                    self._thread.start()

    # -- the publisher thread ----------------------------------------------------------------
    def _run(self) -> None:
        backoff = 0.2
        while not self._stopping.is_set():
            started = time.monotonic()
            error = self._session()
            if self._in_flight:  # never confirmed: publish them again on the next connection
                REPUBLISHED.inc(len(self._in_flight))
                self._retry.extendleft(reversed(list(self._in_flight.values())))
                self._in_flight.clear()
            if self._stopping.is_set():
                break
            if time.monotonic() - started > 10:
                backoff = 0.2  # it was up for a while: this is a new outage
            log.warning("page views not published for now (%s); %d waiting, retrying in %.1fs",
                        error, self.pending(), backoff)
            time.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    def _session(self):
        """One connection's life, driven by pika's own I/O loop; returns why it ended."""
        params = pika.URLParameters(self.amqp_uri)
        params.connection_attempts = 1
        params.socket_timeout = 5
        params.heartbeat = 30
        ended = {"reason": None}
        next_tag = [0]

        def stop_loop(_connection, reason):
            ended["reason"] = reason
            connection.ioloop.stop()

        def on_open(conn):
            conn.channel(on_open_callback=on_channel)

        def on_channel(channel):
            channel.add_on_close_callback(
                lambda _ch, reason: connection.close() if connection.is_open else None)
            channel.confirm_delivery(ack_nack_callback=on_confirm,
                                     callback=lambda _frame: channel.exchange_declare(
                                         EXCHANGE, exchange_type="topic", durable=True,
                                         callback=lambda _f: pump(channel)))

        def on_confirm(frame):
            method = frame.method
            tags = ([t for t in self._in_flight if t <= method.delivery_tag]
                    if method.multiple else [method.delivery_tag])
            for tag in tags:
                envelope = self._in_flight.pop(tag, None)
                if envelope is None:
                    continue
                if isinstance(method, Basic.Nack):
                    REPUBLISHED.inc()
                    self._retry.append(envelope)
                else:
                    EVENTS_PUBLISHED.labels("gateway", ROUTING_KEY).inc()

        def pump(channel):
            if not channel.is_open:
                return
            if self._stopping.is_set() and not self.pending():
                connection.close()
                return
            sent = 0
            while sent < self.max_batch and len(self._in_flight) < self.max_in_flight:
                envelope = self._next()
                if envelope is None:
                    break
                next_tag[0] += 1
                self._in_flight[next_tag[0]] = envelope
                channel.basic_publish(
                    EXCHANGE, ROUTING_KEY,
                    json.dumps(envelope, ensure_ascii=False).encode("utf-8"),
                    pika.BasicProperties(
                        content_type="application/json", content_encoding="utf-8",
                        delivery_mode=pika.DeliveryMode.Persistent,
                        message_id=envelope["event_id"],
                        headers=({CORRELATION_HEADER: envelope["correlation_id"]}
                                 if envelope.get("correlation_id") else {})))
                sent += 1
            BUFFERED.set(self.pending())
            connection.ioloop.call_later(0 if sent == self.max_batch else IDLE_POLL_S,
                                         lambda: pump(channel))

        connection = pika.SelectConnection(params, on_open_callback=on_open,
                                           on_open_error_callback=stop_loop,
                                           on_close_callback=stop_loop)
        try:
            connection.ioloop.start()
        except Exception as exc:  # the loop itself failed: treat as a lost connection
            ended["reason"] = exc
            if connection.is_open:
                connection.close()
        return ended["reason"]

    def _next(self) -> dict | None:
        if self._retry:
            return self._retry.popleft()
        try:
            return self.buffer.get_nowait()
        except queue.Empty:
            return None
