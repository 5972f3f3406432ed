"""Page-view beacons to ``gateway.page_viewed`` events, without making the reader wait.

A request puts the event in a bounded buffer and gets its ``202`` at once; one thread per
process drains the buffer into RabbitMQ with pika (persistent messages, publisher confirms),
retrying while the broker is away. When the buffer is full the hit is refused (``503``) and
counted in ``portal_pageviews_dropped_total``; nothing is dropped silently.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import queue
import threading
import time
from datetime import datetime, timezone

from prometheus_client import Counter, Gauge

from portal_common.events.publisher import ConfirmingPikaPublisher

log = logging.getLogger(__name__)

DROPPED = Counter("portal_pageviews_dropped_total", "Page views refused because the buffer was full")
BUFFERED = Gauge("portal_pageviews_buffered", "Page views waiting to be published")


def visitor_hash(key: str, address: str, user_agent: str, day: str | None = None) -> str:
    """A pseudonymous visitor id that changes every (UTC) day; the raw values are never kept."""
    day = day or datetime.now(timezone.utc).strftime("%Y-%m-%d")
    return hmac.new(f"{key}:{day}".encode(), f"{address}|{user_agent}".encode(),
                    hashlib.sha256).hexdigest()[:32]


class PageViewPublisher:
    def __init__(self, amqp_uri: str, capacity: int):
        self.amqp_uri = amqp_uri
        self.buffer: queue.Queue[dict] = queue.Queue(maxsize=capacity)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def offer(self, envelope: dict) -> bool:
        """Queue one event for publication; False when the buffer is full."""
        self._ensure_thread()
        try:
            self.buffer.put_nowait(envelope)
        except queue.Full:
            DROPPED.inc()
            return False
        BUFFERED.set(self.buffer.qsize())
        return True

    def _ensure_thread(self) -> None:
        # started lazily so that it lives in the worker process, after gunicorn forked
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="pageview-publisher",
                                                    daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        publisher = ConfirmingPikaPublisher(self.amqp_uri)
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                envelope = self.buffer.get(timeout=0.5)
            except queue.Empty:
                continue
            while not self._stopping.is_set():
                try:
                    publisher.publish(envelope)
                    backoff = 0.2
                    break
                except Exception as exc:  # broker away: keep the event and retry
                    if self._stopping.is_set():
                        break
                    log.warning("page view not published yet (%s); retrying in %.1fs", exc, backoff)
                    time.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
            BUFFERED.set(self.buffer.qsize())
        publisher.close()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until the buffer is empty (used at shutdown and by tests)."""
        deadline = time.monotonic() + timeout
        while not self.buffer.empty() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.buffer.empty()

    def stop(self, timeout: float = 10.0) -> bool:
        """Drain the buffer (up to ``timeout``) and stop the thread; False if events remain."""
        drained = self.flush(timeout) if self._thread is not None else self.buffer.empty()
        self._stopping.set()
        return drained
