"""Health, readiness, metrics and request context for Nameko services.

``Instrumentation`` is a dependency every service declares: it configures JSON logging, puts
the caller's correlation id on the worker's logs and measures each entrypoint. ``OpsEndpoints``
is a mixin giving a service ``/healthz``, ``/readyz`` and ``/metrics`` on its own HTTP port
(``WEB_SERVER_ADDRESS`` in the service's config); the service supplies ``readiness_checks``.
"""
from __future__ import annotations

import gc
import json
import logging
import time
from typing import Callable

from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from nameko.web.handlers import http
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest

from portal_common.logs import configure_logging, set_correlation_id
from portal_common.settings import get_settings

log = logging.getLogger(__name__)

ENTRYPOINT_SECONDS = Histogram(
    "portal_entrypoint_seconds", "Time spent in a service entrypoint",
    ["service", "entrypoint", "outcome"],
    buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))


def freeze_loaded_objects() -> None:
    """Once per process, after start-up: hide what is loaded by then (modules, schemas, routes,
    extensions: it lives as long as the process) from the garbage collector.

    A full collection walks every tracked object; with everything a service imports that took
    60-90 ms in a gateway worker, every few seconds under load: most of its p99 latency. After
    ``gc.freeze()`` a collection walks only what was made since (``gc.freeze`` docs: the
    recommended pattern for a process that forks workers or serves long)."""
    if gc.get_freeze_count() == 0:  # not yet: the first container or worker of the process
        gc.collect()
        gc.freeze()


class Instrumentation(DependencyProvider):
    def setup(self):
        configure_logging(self.container.service_name, get_settings().log_level)
        self._started: dict[int, float] = {}

    def start(self):
        freeze_loaded_objects()

    def worker_setup(self, worker_ctx):
        # the id travels on: RPC calls and events made by this worker carry it too
        worker_ctx.data["correlation_id"] = set_correlation_id(worker_ctx.data.get("correlation_id"))
        self._started[id(worker_ctx)] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started.pop(id(worker_ctx), None)
        if started is None:
            return
        elapsed = time.perf_counter() - started
        outcome = "ok" if exc_info is None else exc_info[0].__name__
        method = worker_ctx.entrypoint.method_name
        ENTRYPOINT_SECONDS.labels(self.container.service_name, method, outcome).observe(elapsed)
        # one line per RPC call (its correlation id comes from the log filter); event handlers
        # and timers only at DEBUG, since page views alone can be thousands a second
        level = logging.INFO if isinstance(worker_ctx.entrypoint, Rpc) else logging.DEBUG
        log.log(level, "%s.%s %s in %.1f ms", self.container.service_name, method, outcome,
                elapsed * 1000)

    def get_dependency(self, worker_ctx):
        return None


def check(name: str, probe: Callable[[], object]) -> dict:
    """Run one readiness probe and describe it (``{"name", "ok", "ms", "error"?}``)."""
    started = time.perf_counter()
    try:
        probe()
        return {"name": name, "ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
    except Exception as exc:  # a probe reports, never raises
        return {"name": name, "ok": False, "error": f"{type(exc).__name__}: {exc}"[:300],
                "ms": round((time.perf_counter() - started) * 1000, 1)}


class OpsEndpoints:
    """Mixin: liveness, readiness and Prometheus metrics over the service's HTTP port."""

    def readiness_checks(self) -> list[dict]:  # overridden by services
        return []

    @http("GET", "/healthz")
    def healthz(self, request):
        return 200, {"Content-Type": "application/json"}, json.dumps(
            {"status": "ok", "service": self.name})

    @http("GET", "/readyz")
    def readyz(self, request):
        checks = self.readiness_checks()
        ok = all(c["ok"] for c in checks)
        return (200 if ok else 503), {"Content-Type": "application/json"}, json.dumps(
            {"status": "ready" if ok else "unavailable", "service": self.name, "checks": checks})

    @http("GET", "/metrics")
    def metrics(self, request):
        return 200, {"Content-Type": CONTENT_TYPE_LATEST}, generate_latest().decode()
