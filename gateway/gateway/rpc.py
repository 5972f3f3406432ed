"""A pool of Nameko RPC proxies with timeouts, shared by the gateway's request threads.

One proxy per request is slow (a connection and a reply queue each time) and one global proxy
is not thread-safe, so each thread borrows a started ``ClusterRpcProxy`` for one call and gives
it back. A proxy that timed out or lost its connection is thrown away, never reused.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from nameko.exceptions import RpcTimeout
from nameko.standalone.rpc import ClusterRpcProxy
from prometheus_client import Histogram

from gateway.problems import ServiceUnavailable, translate_rpc_failure
from portal_common.logs import current_correlation_id, set_correlation_id

log = logging.getLogger(__name__)

RPC_SECONDS = Histogram("portal_gateway_rpc_seconds", "RPC calls from the gateway",
                        ["service", "method", "outcome"],
                        buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))


class RpcPool:
    def __init__(self, amqp_uri: str, *, size: int, timeout: float):
        self.config = {"AMQP_URI": amqp_uri}
        self.size, self.timeout = size, timeout
        self._idle: queue.LifoQueue[ClusterRpcProxy] = queue.LifoQueue()
        self._created = 0
        self._lock = threading.Lock()

    def _borrow(self) -> ClusterRpcProxy:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            can_create = self._created < self.size
            if can_create:
                self._created += 1
        if not can_create:
            try:
                return self._idle.get(timeout=self.timeout)
            except queue.Empty:
                raise ServiceUnavailable("the gateway is busy; try again", retry_after=1) from None
        proxy = ClusterRpcProxy(self.config, timeout=self.timeout, context_data={})
        try:
            proxy.start()
        except Exception as exc:
            with self._lock:
                self._created -= 1
            raise ServiceUnavailable("the message broker cannot be reached") from exc
        return proxy

    def _discard(self, proxy: ClusterRpcProxy) -> None:
        with self._lock:
            self._created -= 1
        try:
            proxy.stop()
        except Exception:  # a broken proxy may fail to stop; it is gone either way
            pass

    def call(self, service: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``service.method`` and return its result; domain errors propagate as raised."""
        proxy = self._borrow()
        # the correlation id rides in the call's context data (Nameko headers); a call made
        # outside any request gets one of its own
        proxy._worker_ctx.data["correlation_id"] = (current_correlation_id()
                                                    or set_correlation_id(None))
        started, outcome = time.perf_counter(), "ok"
        try:
            return getattr(getattr(proxy._proxy, service), method)(*args, **kwargs)
        except BaseException as exc:
            outcome = type(exc).__name__
            failure = translate_rpc_failure(exc, service)
            if failure is not None:
                self._discard(proxy)
                proxy = None
                raise failure from exc
            raise
        finally:
            RPC_SECONDS.labels(service, method, outcome).observe(time.perf_counter() - started)
            if proxy is not None:
                self._idle.put(proxy)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().stop()
            except queue.Empty:
                return
            except Exception:
                continue


__all__ = ["RpcPool", "RpcTimeout"]
