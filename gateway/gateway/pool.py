"""A bounded pool of broker connections, shared by the RPC proxies and the feedback intake.

At most ``size`` objects exist; one is made when none is idle and the bound allows, reused
last-in-first-out, and thrown away (``discard``) when it broke. When all are lent out a borrower
waits up to ``timeout`` and then gets ``ServiceUnavailable`` (``503`` with ``Retry-After``),
never an unbounded queue of threads.
"""
from __future__ import annotations

import queue
import threading
from typing import Callable, Generic, TypeVar

from gateway.problems import ServiceUnavailable

T = TypeVar("T")


class BoundedPool(Generic[T]):
    def __init__(self, make: Callable[[], T], dispose: Callable[[T], None], *, size: int,
                 timeout: float, busy: ServiceUnavailable,
                 usable: Callable[[T], bool] = lambda _item: True):
        """``make`` creates one (raising ``ServiceUnavailable`` when it cannot); ``dispose``
        closes one; ``busy`` is raised when none frees up in time; ``usable`` checks an idle
        one before it is lent."""
        self.make, self.dispose, self.usable = make, dispose, usable
        self.size, self.timeout, self.busy = size, timeout, busy
        self._idle: queue.LifoQueue[T] = queue.LifoQueue()
        self._created = 0
        self._lock = threading.Lock()

    def borrow(self) -> T:
        while True:
            try:
                item = self._idle.get_nowait()
            except queue.Empty:
                break
            if self.usable(item):
                return item
            self.discard(item)
        with self._lock:
            can_create = self._created < self.size
            if can_create:
                self._created += 1
        if not can_create:
            try:
                return self._idle.get(timeout=self.timeout)
            except queue.Empty:
                raise ServiceUnavailable(self.busy.detail,
                                         retry_after=self.busy.retry_after) from None
        try:
            return self.make()
        except BaseException:
            with self._lock:
                self._created -= 1
            raise

    def give_back(self, item: T) -> None:
        self._idle.put(item)

    def discard(self, item: T) -> None:
        with self._lock:
            self._created -= 1
        try:
            self.dispose(item)
        except Exception:  # a broken connection may fail to close; it is gone either way
            pass

    def close(self) -> None:
        while True:
            try:
                self.discard(self._idle.get_nowait())
            except queue.Empty:
                return
