"""JSON logs with a correlation id, the same format in every process.

The correlation id comes from the HTTP request's ``X-Request-ID`` (or is made by the gateway),
travels in RPC and event headers (Nameko context data ``correlation_id``) and is put on every
log line by ``CorrelationFilter``, so one request can be followed across processes.
"""
from __future__ import annotations

import contextvars
import logging
import sys
import uuid

from pythonjsonlogger.json import JsonFormatter

_correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None)


def current_correlation_id() -> str | None:
    return _correlation_id.get()


def set_correlation_id(value: str | None) -> str:
    """Set the id for the current thread/greenlet; make one when none is given."""
    value = (value or "").strip()[:128] or uuid.uuid4().hex
    _correlation_id.set(value)
    return value


class CorrelationFilter(logging.Filter):
    def __init__(self, process_name: str = ""):
        super().__init__()
        self.process_name = process_name

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = current_correlation_id()
        record.process_name = self.process_name
        return True


_configured = False


def configure_logging(process_name: str, level: str = "INFO") -> None:
    """Install one JSON handler on the root logger (idempotent)."""
    global _configured
    if _configured:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s %(process_name)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        timestamp=False))
    handler.addFilter(CorrelationFilter(process_name))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # kombu and pika are chatty at INFO about every connection
    for noisy in ("pika", "kombu", "amqp", "elastic_transport", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _configured = True
