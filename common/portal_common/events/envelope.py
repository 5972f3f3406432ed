"""The envelope every event body carries (PRODUCT.md): id, type, source, time, version, data."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from portal_common.logs import current_correlation_id


def iso_utc(value: datetime) -> str:
    """A time as the events carry it: UTC, ISO 8601, milliseconds, ``Z`` suffix (a naive
    datetime, as MongoDB may return one, is taken to be UTC already)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now_iso() -> str:
    """The current time in the events' format."""
    return iso_utc(datetime.now(timezone.utc))


def new_event(source: str, type_: str, data: dict[str, Any], *, version: int = 1,
              correlation_id: str | None = None) -> dict[str, Any]:
    """Build an envelope; validation against the catalogue happens when it is published."""
    return {
        "event_id": uuid.uuid4().hex,
        "type": type_,
        "source": source,
        "occurred_at": utc_now_iso(),
        "version": version,
        "correlation_id": correlation_id or current_correlation_id(),
        "data": data,
    }
