"""Pacing a catch-up scan: every tick while this process knows work is waiting, rarely otherwise.

A catch-up scan (documents left unindexed, events left in an outbox) looks for work a failure
left behind. Scanning a large collection on every timer tick is costly — on the local FerretDB
every query reads the whole collection, about five seconds for a 50,000-document register — and
almost always finds nothing. So a scan is *due*:

- on the first tick after the process starts (what a crash left behind, here or elsewhere);
- on every tick after this process saw a failure (``soon()``: the search engine or the broker
  did not answer), until a scan finds nothing left to do;
- otherwise every ``CATCH_UP_SCAN_INTERVAL_S`` seconds (what another replica's crash left).
"""
from __future__ import annotations

import contextlib
import threading
import time
from typing import Callable, ContextManager

from nameko.extensions import DependencyProvider
from prometheus_client import Histogram

from portal_common.settings import get_settings


SCANS = Histogram("portal_catch_up_scan_seconds", "Duration of catch-up scans", ["service"],
                  buckets=(0.01, 0.05, 0.25, 1, 5, 15, 60))


class Pace:
    def __init__(self, every_s: float, clock: Callable[[], float] = time.monotonic,
                 timer: Callable[[], ContextManager] = contextlib.nullcontext):
        self.every_s = every_s
        self.clock = clock
        self.timer = timer        # times a scan: ``with pace.timer(): ...``
        self._next = 0.0          # the first tick scans
        self._soon = False
        self._lock = threading.Lock()

    def soon(self) -> None:
        """Work is known to be waiting: scan on the next tick."""
        self._soon = True

    def due(self, *, urgent: bool = False) -> bool:
        """Whether to scan now (``urgent``: the caller knows of waiting work too)."""
        with self._lock:
            now = self.clock()
            if not (urgent or self._soon or now >= self._next):
                return False
            self._soon = False
            self._next = now + self.every_s
            return True


class CatchUpPace(DependencyProvider):
    """One ``Pace`` per service container, shared by its workers."""

    def setup(self):
        self.pace = Pace(get_settings().catch_up_scan_interval_s,
                         timer=SCANS.labels(self.container.service_name).time)

    def get_dependency(self, worker_ctx) -> Pace:
        return self.pace
