"""The transactional outbox without transactions.

A write and the event announcing it must not be separable by a crash. MongoDB (and FerretDB)
update one document atomically, so the event is pushed into an ``outbox`` array *inside the
document it describes*, in the same update. Afterwards ``relay`` publishes the pending events
and pulls each one out once the broker confirmed it; ``sweep`` (run on a timer) catches the
ones a crash left behind. Delivery is therefore at least once, and consumers are idempotent
(keyed by ``event_id``).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable

from prometheus_client import Counter
from pymongo.collection import Collection

from portal_common.events.envelope import iso_utc

log = logging.getLogger(__name__)

Publish = Callable[[dict[str, Any]], None]

OUTBOX_FIELD = "outbox"
RELAYED = Counter("portal_outbox_relayed_total", "Outbox events published and removed",
                  ["collection", "path"])
RELAY_FAILURES = Counter("portal_outbox_relay_failures_total",
                         "Outbox events whose publication failed (retried later)", ["collection"])

# collections (by full name) where this process knows events are still waiting: a publication
# failed, or a sweep left events too young to take; a paced sweeper (portal_common.pacing) asks
# ``unsettled`` to sweep again on its next tick instead of waiting for its next full scan
_unsettled: set[str] = set()


def unsettled(collection: Collection) -> bool:
    """Whether this process knows of events still waiting in ``collection``'s outboxes."""
    return collection.full_name in _unsettled


def stage(events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Update fragment that records events in the document's outbox, atomically with the write."""
    return {"$push": {OUTBOX_FIELD: {"$each": list(events)}}}


def _publish_pending(collection: Collection, doc: dict[str, Any], publish: Publish, path: str) -> int:
    sent = 0
    for event in doc.get(OUTBOX_FIELD) or []:
        try:
            publish(event)
        except Exception:
            RELAY_FAILURES.labels(collection.name).inc()
            _unsettled.add(collection.full_name)
            log.exception("outbox event %s of %s/%s not published; will retry",
                          event.get("event_id"), collection.name, doc["_id"])
            return sent  # keep order: later events wait for the earlier one
        # pull the element as read back (whole-value match): FerretDB's $pull does not take a
        # query condition such as {"event_id": ...}, and MongoDB matches this form as well
        collection.update_one({"_id": doc["_id"]}, {"$pull": {OUTBOX_FIELD: event}})
        RELAYED.labels(collection.name, path).inc()
        sent += 1
    return sent


def relay(collection: Collection, doc_id: Any, publish: Publish) -> int:
    """Publish the pending events of one document right after it was written."""
    doc = collection.find_one({"_id": doc_id}, {OUTBOX_FIELD: 1})
    return _publish_pending(collection, doc, publish, "inline") if doc else 0


def sweep(collection: Collection, publish: Publish, *, min_age: timedelta = timedelta(seconds=5),
          limit: int = 200) -> int:
    """Publish events that stayed in any outbox longer than ``min_age`` (a crash, a broker outage).

    ``min_age`` keeps the sweeper from racing the inline relay of a write in progress; racing
    would only duplicate an event, which consumers tolerate, but there is no need to.
    """
    cutoff = iso_utc(datetime.now(timezone.utc) - min_age)  # same format: compares as text
    sent = 0
    _unsettled.discard(collection.full_name)  # a failure below, or a young event, adds it back
    found = 0
    for doc in collection.find({f"{OUTBOX_FIELD}.event_id": {"$exists": True}},
                               {OUTBOX_FIELD: 1}).limit(limit):
        found += 1
        waiting = doc.get(OUTBOX_FIELD) or []
        pending = [e for e in waiting if e.get("occurred_at", "") <= cutoff]
        if len(pending) < len(waiting):
            _unsettled.add(collection.full_name)
        if pending:
            sent += _publish_pending(collection, {"_id": doc["_id"], OUTBOX_FIELD: pending},
                                     publish, "sweep")
    if found == limit:
        _unsettled.add(collection.full_name)  # a full page: more may wait
    return sent
