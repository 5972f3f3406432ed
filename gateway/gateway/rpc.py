"""A pool of Nameko RPC proxies with timeouts, shared by the gateway's request threads.

One proxy per request is slow (a connection and a reply queue each time) and one global proxy
is not thread-safe, so each thread borrows a started ``ClusterRpcProxy`` for one call and gives
it back. A proxy that timed out or lost its connection is thrown away, never reused.

A stopped service and a slow one are told apart: before a call, the gateway checks that the
service's RPC queue (``rpc-<service>``) has a consumer (confirmed at most once a second per
service while it is up), so a call to a stopped service is a prompt 503 and is never left in
the queue to run later, when nobody waits for its answer. A call that times out is a 504,
unless the service vanished meanwhile (then 503).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pika
from nameko.constants import NON_PERSISTENT
from nameko.exceptions import RpcTimeout
from nameko.rpc import RPC_QUEUE_TEMPLATE, ServiceProxy
from nameko.standalone.rpc import ClusterRpcProxy
from pika.exceptions import AMQPError, ChannelClosedByBroker
from prometheus_client import Histogram

from gateway.pool import BoundedPool
from gateway.problems import ServiceTimeout, ServiceUnavailable, translate_rpc_failure
from portal_common.logs import current_correlation_id, set_correlation_id

log = logging.getLogger(__name__)

RPC_SECONDS = Histogram("portal_gateway_rpc_seconds", "RPC calls from the gateway",
                        ["service", "method", "outcome"],
                        buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))


class ServicePresence:
    """Whether a Nameko service is running: its RPC queue has at least one consumer."""

    def __init__(self, amqp_uri: str, confirm_for_s: float = 1.0, timeout: float = 3.0):
        self.params = pika.URLParameters(amqp_uri)
        self.params.connection_attempts = 1
        self.params.socket_timeout = timeout
        self.params.blocked_connection_timeout = timeout
        self.params.heartbeat = 60
        self.confirm_for_s = confirm_for_s
        self._confirmed: dict[str, float] = {}
        self._connection = None
        self._channel = None
        self._lock = threading.Lock()

    def consumers(self, service: str) -> int:
        """Consumers of the service's queue (0 when it has none or no queue)."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._connection is None or not self._connection.is_open:
                        self._connection = pika.BlockingConnection(self.params)
                        self._channel = None
                    if self._channel is None or not self._channel.is_open:
                        self._channel = self._connection.channel()
                    declared = self._channel.queue_declare(
                        RPC_QUEUE_TEMPLATE.format(service), passive=True)
                    return declared.method.consumer_count
                except ChannelClosedByBroker:  # no such queue: never started here
                    self._channel = None
                    return 0
                except (AMQPError, OSError) as exc:
                    self._close()
                    if attempt == 2:
                        raise ServiceUnavailable("the message broker cannot be reached") from exc
        return 0

    def running(self, service: str) -> bool:
        now = time.monotonic()
        if now - self._confirmed.get(service, -1e9) < self.confirm_for_s:
            return True
        if self.consumers(service) > 0:
            self._confirmed[service] = now
            return True
        self._confirmed.pop(service, None)
        return False

    def _close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # already broken
                pass

    def close(self) -> None:
        with self._lock:
            self._close()


class RpcPool:
    def __init__(self, amqp_uri: str, *, size: int, timeout: float):
        self.config = {"AMQP_URI": amqp_uri}
        self.size, self.timeout = size, timeout
        self.presence = ServicePresence(amqp_uri)
        self._pool: BoundedPool[ClusterRpcProxy] = BoundedPool(
            self._start_proxy, lambda proxy: proxy.stop(), size=size, timeout=timeout,
            busy=ServiceUnavailable("the gateway is busy; try again", retry_after=1))

    def _start_proxy(self) -> ClusterRpcProxy:
        proxy = ClusterRpcProxy(self.config, timeout=self.timeout, context_data={})
        try:
            proxy.start()
        except Exception as exc:
            raise ServiceUnavailable("the message broker cannot be reached") from exc
        return proxy

    def call(self, service: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``service.method`` and return its result; domain errors propagate as raised."""
        if not self.presence.running(service):
            RPC_SECONDS.labels(service, method, "NotRunning").observe(0)
            raise ServiceUnavailable(f"the {service} service is not running")
        proxy = self._pool.borrow()
        # the correlation id rides in the call's context data (Nameko headers); a call made
        # outside any request gets one of its own
        proxy._worker_ctx.data["correlation_id"] = (current_correlation_id()
                                                    or set_correlation_id(None))
        started, outcome = time.perf_counter(), "ok"
        try:
            # a request nobody will wait for after a broker restart need not be written to
            # disk: transient, it is confirmed once queued, without the message store
            target = ServiceProxy(proxy._worker_ctx, service, proxy._reply_listener,
                                  delivery_mode=NON_PERSISTENT)
            return getattr(target, method)(*args, **kwargs)
        except BaseException as exc:
            outcome = type(exc).__name__
            failure = translate_rpc_failure(exc, service)
            if isinstance(failure, ServiceTimeout) and not self._still_running(service):
                failure = ServiceUnavailable(f"the {service} service stopped")
            if failure is not None:
                self._pool.discard(proxy)
                proxy = None
                raise failure from exc
            raise
        finally:
            RPC_SECONDS.labels(service, method, outcome).observe(time.perf_counter() - started)
            if proxy is not None:
                self._pool.give_back(proxy)

    def _still_running(self, service: str) -> bool:
        try:
            return self.presence.consumers(service) > 0
        except ServiceUnavailable:
            return True  # cannot tell: report the timeout as it is

    def close(self) -> None:
        self.presence.close()
        self._pool.close()


__all__ = ["RpcPool", "RpcTimeout"]
