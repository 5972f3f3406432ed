"""The outbox's own record of waiting events (real MongoDB-protocol server), which paces the
catch-up scans of a large register (portal_common.pacing)."""
from datetime import datetime, timedelta, timezone

from pymongo import MongoClient

from portal_common.events import iso_utc, new_event, outbox
from portal_common.settings import get_settings


def _collection(namespace):
    settings = get_settings()
    return MongoClient(settings.mongo_uri, tz_aware=True)[f"{namespace}_pacing"]["records"]


def _staged(age_s: float) -> dict:
    event = new_event("documents", "document_indexed", {"document_id": "d1"})
    event["occurred_at"] = iso_utc(datetime.now(timezone.utc) - timedelta(seconds=age_s))
    return event


def _refuse(event):
    raise ConnectionError("broker away")


def test_a_refused_publication_leaves_the_collection_unsettled_until_a_sweep_empties_it(
        namespace):
    records = _collection(namespace)
    records.insert_one({"_id": "d1", "outbox": [_staged(60)]})
    assert not outbox.unsettled(records)

    assert outbox.relay(records, "d1", _refuse) == 0
    assert outbox.unsettled(records)          # the paced sweeper scans on its next tick

    published = []
    assert outbox.sweep(records, published.append) == 1
    assert [e["type"] for e in published] == ["document_indexed"]
    assert not outbox.unsettled(records)
    assert records.find_one({"_id": "d1"})["outbox"] == []


def test_an_event_too_young_for_the_sweep_keeps_the_collection_unsettled(namespace):
    records = _collection(namespace)
    records.insert_one({"_id": "d2", "outbox": [_staged(0)]})
    published = []
    assert outbox.sweep(records, published.append) == 0
    assert outbox.unsettled(records) and published == []
    assert outbox.sweep(records, published.append, min_age=timedelta(0)) == 1
    assert not outbox.unsettled(records)


def test_a_full_page_of_waiting_documents_keeps_the_collection_unsettled(namespace):
    records = _collection(namespace)
    records.insert_many([{"_id": f"d{n}", "outbox": [_staged(60)]} for n in range(3)])
    published = []
    assert outbox.sweep(records, published.append, limit=2) == 2
    assert outbox.unsettled(records)
    assert outbox.sweep(records, published.append, limit=2) == 1
    assert not outbox.unsettled(records)
