"""Rate limits on abuse-prone endpoints, by client address, with Flask-Limiter.

Other modules apply a named limit with one decorator, under ``@operation``::

    from gateway import limits

    @bp.post("/feedback")
    @operation(tags=["feedback"], body=FeedbackIn, response=Receipt, status=202)
    @limits.feedback
    def submit_feedback(): ...

The named limits are ``login``, ``hits``, ``votes``, ``feedback`` and ``feedback_lookup`` (the
public tracking page); each reads its rate from
the settings (``RATE_LIMIT_LOGIN`` ... in Flask-Limiter's notation, e.g. ``"10/minute;100/hour"``)
and keeps its own count per client address. Past the limit the answer is a 429 problem document
with ``Retry-After`` (seconds) and the ``X-RateLimit-*`` headers. The OpenAPI document lists the
429 of every decorated operation by itself.

Counts live in ``RATELIMIT_STORAGE_URI``: ``memory://`` (each gunicorn worker counts alone, so
the effective limit is up to workers × the rate) or a shared store for production, e.g.
``mongodb://host:27017`` or ``redis://host:6379`` (the ``limits`` package's storages). If that
store fails, counting falls back to memory rather than refusing requests.
"""
from __future__ import annotations

import functools
import math
import threading
import time
from typing import Callable

from flask import Flask, current_app, request
from flask_limiter import Limiter
from prometheus_client import Counter

LIMITED = Counter("portal_gateway_rate_limited_total", "Requests refused by a rate limit", ["limit"])


def client_address() -> str:
    """The client's address (the real one behind ``PROXY_HOPS`` trusted proxies)."""
    return request.remote_addr or "unknown"


class NamedLimit:
    """A decorator applying the limit ``name`` whose rate is the setting ``setting``."""

    def __init__(self, name: str, setting: str):
        self.name, self.setting = name, setting

    def rate(self) -> str:
        return getattr(current_app.config["SETTINGS"], self.setting)

    def __call__(self, view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            limited_view = current_app.extensions["rate_limits"].limited(self, view)
            return limited_view(*args, **kwargs)

        wrapped.rate_limits = (*getattr(view, "rate_limits", ()), self.name)
        return wrapped

    def __repr__(self) -> str:
        return f"limits.{self.name}"


login = NamedLimit("login", "rate_limit_login")
hits = NamedLimit("hits", "rate_limit_hits")
votes = NamedLimit("votes", "rate_limit_votes")
feedback = NamedLimit("feedback", "rate_limit_feedback")
feedback_lookup = NamedLimit("feedback_lookup", "rate_limit_feedback_lookup")
NAMED = {limit.name: limit for limit in (login, hits, votes, feedback, feedback_lookup)}


class RateLimits:
    """The app's Flask-Limiter (one per app, so that apps never share counts) and the views it
    wraps, made on first use."""

    def __init__(self, app: Flask, storage_uri: str):
        app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri)
        self.limiter = Limiter(key_func=client_address, strategy="moving-window",
                               headers_enabled=True, swallow_errors=True,
                               in_memory_fallback_enabled=True,
                               key_prefix="portal-gateway")
        self.limiter.init_app(app)
        self._views: dict[tuple[str, Callable], Callable] = {}
        self._lock = threading.Lock()
        app.extensions["rate_limits"] = self

    def limited(self, limit: NamedLimit, view: Callable) -> Callable:
        key = (limit.name, view)
        wrapped = self._views.get(key)
        if wrapped is None:
            with self._lock:  # registered once, even when the first requests come together
                wrapped = self._views.get(key)
                if wrapped is None:
                    wrapped = self._views[key] = self.limiter.limit(
                        limit.rate, scope=limit.name, key_func=client_address,
                        on_breach=lambda _request_limit: LIMITED.labels(limit.name).inc())(view)
        return wrapped

    def retry_after(self) -> int:
        """Seconds until the limit this request broke lets a request through again."""
        current = self.limiter.current_limit
        if current is None:
            return 1
        return max(1, math.ceil(current.reset_at - time.time()))
