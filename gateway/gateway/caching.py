"""Public GET answers cached in the gateway process, revalidated by ETag, invalidated by events.

``@cached("news")`` on a public view keeps its JSON answer in memory until an event arrives on
``news.events`` (any type); ``@cached(ttl=2)`` keeps it for a fixed time instead (the visitor
counter changes with every page view, so events would only churn it). Every answer gets an
``ETag`` (a hash of the body) and ``Cache-Control``; a matching ``If-None-Match`` gets ``304``.

Invalidation: one thread per worker process binds a private, auto-deleted queue to the event
exchanges it needs and bumps a generation number per source on each event. An entry stored
under an older generation is never served, so a change is visible as soon as its event arrives
(milliseconds after the service's write). Some answers follow an event only after another
service has reacted to it without an event of its own (the search index of articles follows
``article_published``), so each event bumps its source again 1 s and 5 s later: such an answer
is stale for a few seconds at most, never until the next event. While that thread is not connected to the broker,
nothing is served from memory (answers are still computed, with ETags): correctness first.

Requests with an ``Authorization`` header are never cached (staff may see drafts).

Concurrent misses of one key are computed once per worker: the first request calls the view,
the others wait for its answer (at most ``FOLLOW_WAIT_S``) instead of each sending the same
call to a service. Without it, a popular search expiring sent as many identical searches to
Elasticsearch as there were requests waiting for it.

A *time-limited* answer past its ttl (but less than one more ttl old) is revalidated in the
background (stale-while-revalidate): every request, the one that noticed the expiry included,
gets the previous answer at once while one thread of the worker's ``REFRESH_THREADS``
recomputes it. The visitor counter, read on every page, never makes a visitor wait for the
service every two seconds. A failed refresh keeps the previous answer until it is two ttls
old; after that the next request computes in line (and sees the error, if it persists).
"""
from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import pika
from flask import Response, copy_current_request_context, current_app, make_response, request
from prometheus_client import Counter

from portal_common.logs import current_correlation_id, set_correlation_id

log = logging.getLogger(__name__)

LOOKUPS = Counter("portal_gateway_cache_lookups_total", "Response cache lookups",
                  ["source", "outcome"])
# how long a miss waits for the same miss in progress before computing its own answer
FOLLOW_WAIT_S = 10.0
REFRESH_THREADS = 2  # per worker process: background revalidations of time-limited answers
INVALIDATIONS = Counter("portal_gateway_cache_invalidations_total",
                        "Cache generations bumped by events", ["source"])


@dataclass
class _Entry:
    body: bytes
    mimetype: str
    etag: str
    generation: tuple
    stored_at: float


class ResponseCache:
    def __init__(self, amqp_uri: str, max_entries: int = 4096,
                 echo_s: tuple[float, ...] = (1.0, 5.0)):
        self.amqp_uri = amqp_uri
        self.max_entries = max_entries
        self.echo_s = echo_s
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._flights: dict[str, threading.Event] = {}  # misses being computed, by key
        self._generations: dict[str, int] = {}
        self._sources: set[str] = set()
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection = None
        self._refresher: ThreadPoolExecutor | None = None

    # -- generations -------------------------------------------------------------------------
    def watch(self, sources) -> None:
        with self._lock:
            new = set(sources) - self._sources
            self._sources |= new
        if new and self._thread is not None:
            self._reconnect()  # bind the new exchanges too

    def generation(self, sources) -> tuple:
        return tuple(self._generations.get(source, 0) for source in sources)

    def invalidate(self, source: str) -> None:
        with self._lock:
            self._generations[source] = self._generations.get(source, 0) + 1
        INVALIDATIONS.labels(source).inc()

    def invalidate_all(self) -> None:
        with self._lock:
            for source in list(self._sources):
                self._generations[source] = self._generations.get(source, 0) + 1
            self._entries.clear()

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    # -- entries -----------------------------------------------------------------------------
    def get(self, key: str) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: _Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def lead(self, key: str) -> threading.Event | None:
        """Start computing ``key``: None when this caller leads (it must call ``land``), or
        the event to wait on while another request computes it."""
        with self._lock:
            flight = self._flights.get(key)
            if flight is None:
                self._flights[key] = threading.Event()
            return flight

    def land(self, key: str) -> None:
        """The leader of ``key`` is done (stored or not): release its followers."""
        with self._lock:
            flight = self._flights.pop(key, None)
        if flight is not None:
            flight.set()

    def refresh_later(self, key: str, refresh: Callable[[], None]) -> None:
        """Run ``refresh`` (which recomputes ``key`` and lands it) on a background thread."""
        with self._lock:
            if self._refresher is None and not self._stopping.is_set():
                # made on first use: the threads must live in the worker, after gunicorn forked
                self._refresher = ThreadPoolExecutor(REFRESH_THREADS,
                                                     thread_name_prefix="cache-refresh")
            refresher = self._refresher
        if refresher is not None:
            try:
                refresher.submit(refresh)
                return
            except RuntimeError:  # shut down in the meantime
                pass
        self.land(key)  # stopping: nobody will recompute it in the background

    # -- the invalidation thread -------------------------------------------------------------
    def ensure_listener(self) -> None:
        # started lazily so that it lives in the worker process, after gunicorn forked
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="cache-invalidator",
                                                    daemon=True)
                    self._thread.start()

    def _reconnect(self) -> None:
        connection = self._connection
        if connection is not None:
            try:
                connection.add_callback_threadsafe(connection.close)
            except Exception:  # already closed
                pass

    def _run(self) -> None:
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                self._consume()
                backoff = 0.2
            except Exception as exc:  # broker away: serve uncached until we are back
                if self._stopping.is_set():
                    break
                log.warning("cache invalidation stopped (%s); serving uncached, retrying in %.1fs",
                            exc, backoff)
            finally:
                self._listening.clear()
                self._connection = None
            if not self._stopping.is_set():
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def _consume(self) -> None:
        params = pika.URLParameters(self.amqp_uri)
        params.heartbeat = 30
        params.connection_attempts = 1
        params.socket_timeout = 3
        connection = pika.BlockingConnection(params)
        self._connection = connection
        try:
            channel = connection.channel()
            queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
            with self._lock:
                sources = sorted(self._sources)
            for source in sources:
                exchange = f"{source}.events"
                channel.exchange_declare(exchange, exchange_type="topic", durable=True)
                channel.queue_bind(queue, exchange, routing_key="#")

            due: dict[tuple[str, float], float] = {}  # the latest echo planned per source/delay

            def echo_later(source: str) -> None:
                # other services react to the same event (the search index follows
                # article_published) without always announcing it: bump again a little later.
                # A burst of events plans few timers: one is added only when the last one
                # planned would come too early for this event.
                now = time.monotonic()
                for delay in self.echo_s:
                    if due.get((source, delay), 0.0) < now + delay / 2:
                        due[(source, delay)] = now + delay
                        connection.call_later(delay, functools.partial(self.invalidate, source))

            def on_event(_channel, method, _properties, _body):
                source = method.exchange.removesuffix(".events")
                self.invalidate(source)
                echo_later(source)

            channel.basic_consume(queue, on_event, auto_ack=True)
            # whatever was stored before this connection may have missed events, and the
            # echoes of the previous connection's last events went with it
            self.invalidate_all()
            for source in sources:
                echo_later(source)
            self._listening.set()
            channel.start_consuming()
        finally:
            self._listening.clear()
            if connection.is_open:
                connection.close()

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            refresher, self._refresher = self._refresher, None
        if refresher is not None:
            refresher.shutdown(wait=False, cancel_futures=True)
        self._reconnect()


def _cache_key() -> str:
    args = sorted(request.args.items(multi=True))
    return request.path + "?" + "&".join(f"{k}={v}" for k, v in args)


def _etag(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=12).hexdigest()


def _respond(body: bytes, mimetype: str, etag: str, cache_control: str, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype=mimetype)
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache_control
    # staff requests (with a token) get another answer: shared caches must keep them apart
    response.vary.add("Authorization")
    return response.make_conditional(request)


def _find(cache: ResponseCache, key: str, generation: tuple, ttl: float | None
          ) -> tuple[_Entry | None, str, bool]:
    """The stored answer to serve for ``key`` (or None: compute it), how it was found (the
    lookup outcome), and whether this request leads the computation (it must ``land`` it:
    in line when no answer is returned, in the background when a stale one is)."""
    def fresh(stale_s: float = 0.0) -> _Entry | None:
        entry = cache.get(key)
        if (entry is not None and entry.generation == generation
                and (ttl is None or time.monotonic() - entry.stored_at < ttl + stale_s)):
            return entry
        return None

    if (entry := fresh()) is not None:
        return entry, "hit", False
    flight = cache.lead(key)
    # a time-limited answer past its ttl: the previous one, at most one more ttl old, is
    # served while it is recomputed (never one an event has invalidated)
    stale = fresh(stale_s=ttl) if ttl is not None else None
    if flight is None:
        return (stale, "refresh", True) if stale is not None else (None, "miss", True)
    if stale is not None:
        return stale, "stale", False
    flight.wait(FOLLOW_WAIT_S)  # the same miss is being computed: take its answer
    if (entry := fresh()) is not None:
        return entry, "followed", False
    return None, "miss", False  # the other request failed or is slow: compute, alone


def _compute(view: Callable, args, kwargs, generation: tuple) -> tuple[Response, _Entry | None]:
    """The view's response, and the entry to keep when it is a cacheable one (a 200 JSON)."""
    response = make_response(view(*args, **kwargs))
    if response.status_code != 200 or not response.is_json:
        return response, None
    body = response.get_data()
    return response, _Entry(body, response.mimetype, _etag(body), generation, time.monotonic())


def _refresh(cache: ResponseCache, key: str, generation: tuple, view: Callable, args, kwargs,
             correlation_id: str | None) -> None:
    """Recompute ``key`` in the background (in a copy of the request that found it stale);
    on failure the previous answer stays until it is too old."""
    set_correlation_id(correlation_id)
    try:
        response, answer = _compute(view, args, kwargs, generation)
        if answer is None:
            log.warning("refreshing %s answered %s: the previous answer is kept", key,
                        response.status_code)
        else:
            cache.put(key, answer)
    except Exception:  # noqa: BLE001 - a background thread: report, keep the previous answer
        log.warning("refreshing %s failed: the previous answer is kept", key, exc_info=True)
    finally:
        cache.land(key)


def cached(*sources: str, ttl: float | None = None, max_age: int = 0) -> Callable:
    """Cache a public GET view's 200 JSON answers (see the module docstring).

    ``sources``: event sources whose events invalidate the answers; ``ttl``: seconds an answer
    is kept instead; ``max_age``: what clients may keep without asking (0 = always revalidate,
    which is cheap: a 304 from memory)."""
    if not sources and ttl is None:
        raise ValueError("give the event sources that invalidate the answer, or a ttl")
    cache_control = f"public, max-age={max_age}" + (", must-revalidate" if max_age == 0 else "")

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            cache: ResponseCache = current_app.extensions["response_cache"]
            label = ",".join(sources) or "ttl"
            if request.headers.get("Authorization"):
                response = make_response(view(*args, **kwargs))
                response.headers["Cache-Control"] = "private, no-store"
                response.vary.add("Authorization")
                return response
            if sources:
                cache.watch(sources)
                cache.ensure_listener()
            key = _cache_key()
            generation = cache.generation(sources)
            usable = cache.listening or not sources
            entry, outcome, leads = (_find(cache, key, generation, ttl) if usable
                                     else (None, "bypass", False))
            LOOKUPS.labels(label, outcome).inc()
            if entry is not None:
                if leads:
                    cache.refresh_later(key, copy_current_request_context(functools.partial(
                        _refresh, cache, key, generation, view, args, kwargs,
                        current_correlation_id())))
                return _respond(entry.body, entry.mimetype, entry.etag, cache_control)
            try:
                response, answer = _compute(view, args, kwargs, generation)
                if answer is None:
                    return response
                if usable:
                    cache.put(key, answer)
            finally:
                if leads:
                    cache.land(key)
            return _respond(answer.body, answer.mimetype, answer.etag, cache_control)

        return wrapped

    return decorator
