"""Rate limits (Flask-Limiter), one limiter per app.

A view opts in with ``@rate_limit("feedback_lookup_limit")``, naming a field of
``GatewaySettings`` that holds the limit in Flask-Limiter's notation (``"30 per minute"``,
several separated by ``;``). ``init_limits(app)`` makes the app's limiter and applies the
marked views' limits, keyed by the client's address. Storage is ``RATELIMIT_STORAGE_URI``:
``memory://`` (the default) counts per gunicorn worker, so the effective limit is up to
workers × the limit; point it at Redis or Memcached to share counts between workers and pods.
Refusals are ``429`` problem documents with ``Retry-After``.
"""
from __future__ import annotations

from typing import Callable

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from gateway.contract import documented_rules


def rate_limit(setting: str) -> Callable:
    """Mark a view as limited by the settings field ``setting``."""

    def decorator(view: Callable) -> Callable:
        view.rate_limit_setting = setting
        return view

    return decorator


def init_limits(app: Flask) -> Limiter:
    settings = app.config["SETTINGS"]
    limiter = Limiter(get_remote_address, app=app, storage_uri=settings.ratelimit_storage_uri,
                      headers_enabled=True, strategy="fixed-window")
    for rule, view in list(documented_rules(app)):
        setting = getattr(view, "rate_limit_setting", None)
        if setting is None:
            continue
        getattr(settings, setting)  # a typo fails at start, not at the first request
        limited = limiter.limit(lambda s=setting: getattr(current_app.config["SETTINGS"], s),
                                key_func=get_remote_address)(view)
        app.view_functions[rule.endpoint] = limited
    app.extensions["limiter"] = limiter
    return limiter
