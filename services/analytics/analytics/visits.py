"""Page views, unique visitors and the visitor counter, as roll-ups that redelivery cannot skew.

Figures are never recounted from raw hits (``count_documents`` over months of hits is slow on
FerretDB, which has no TTL either); they live in small counter documents, and each batch of
``page_viewed`` events is applied to them exactly once:

1. a ``batches`` document ``{_id: B, state: "pending"}`` is written first;
2. the hits are inserted with ``_id = event_id`` and ``batch = B``. An event already stored
   (a redelivery, a republish) fails on its key and belongs to the batch that stored it first,
   so every hit is owned by exactly one batch;
3. the day's unique visitors are inserted the same way (``_id = day:visitor``, ``batch = B``);
4. the increments are computed from what B owns and applied to the counter documents with a
   guard: ``{_id: counter, applied: {$ne: B}}`` + ``$push: {applied: B}`` is one atomic update,
   so applying B twice is a no-op (the second upsert fails on the key);
5. B is marked ``done`` and only then pulled out of the counters' ``applied`` lists.

A crash anywhere leaves B ``pending``; ``recover`` (run on a timer) re-runs steps 3–5 for
batches pending longer than ``RECOVERY_AFTER`` from what B owns, which is idempotent. Raw hits
and visitor keys are kept for ``RETENTION`` (as long as the consumer inbox remembers event ids);
an event older than that is refused as too late, so it can never be counted twice either.
"""
from __future__ import annotations

import hashlib
import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # "today" is the portal's day, not UTC's
ONLINE_WINDOW = timedelta(minutes=5)
RETENTION = timedelta(days=30)
RECOVERY_AFTER = timedelta(minutes=10)  # longer than a worker waits out an outage (5 min)
COUNTER_ID = "visitor_counter"
TOTAL_ID = "total"
DIRECT = "(direct)"


def local_day(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d")


def label_key(kind: str, value: str) -> str:
    """Paths and hosts become field names of the day documents: a short hash, since a field
    name may not contain ``.`` or start with ``$``; ``labels`` maps it back."""
    return hashlib.blake2b(f"{kind}:{value}".encode(), digest_size=8).hexdigest()


def referrer_host(referrer: str | None) -> str:
    if not referrer:
        return DIRECT
    host = (urlsplit(referrer).hostname or "").lower().removeprefix("www.")
    return host[:253] or DIRECT


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def insert_new(collection, docs: list[dict]) -> list[dict]:
    """insert_many that skips documents whose key is taken; returns the ones it inserted."""
    if not docs:
        return []
    try:
        collection.insert_many(docs, ordered=False)
        return docs
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != 11000 for e in errors):
            raise
        taken = {e["index"] for e in errors}
        return [doc for i, doc in enumerate(docs) if i not in taken]


class VisitStore:
    def __init__(self, database: Database):
        self.hits = database["hits"]
        self.day_visitors = database["day_visitors"]
        self.online = database["online_visitors"]
        self.counters = database["counters"]
        self.labels = database["labels"]
        self.batches = database["batches"]
        self.settings = database["settings"]

    def ensure_indexes(self) -> None:
        self.hits.create_index([("batch", ASCENDING)])
        self.hits.create_index([("viewed_at", ASCENDING)])
        self.day_visitors.create_index([("batch", ASCENDING)])
        self.batches.create_index([("state", ASCENDING), ("created_at", ASCENDING)])

    # -- ingest ------------------------------------------------------------------------------
    def record_batch(self, events: Iterable[dict[str, Any]], now: datetime | None = None
                     ) -> dict[str, int]:
        """Count a batch of ``page_viewed`` envelopes once each; returns what happened."""
        now = now or datetime.now(timezone.utc)
        too_old = now - RETENTION + timedelta(hours=1)
        hits, late = [], 0
        for event in events:
            data = event["data"]
            viewed_at = _parse_time(data["viewed_at"])
            if viewed_at < too_old:
                late += 1  # older than the ids we remember: it could be a replay
                continue
            hits.append({"_id": event["event_id"], "path": data["path"],
                         "referrer": referrer_host(data.get("referrer")),
                         "visitor": data.get("visitor"), "viewed_at": viewed_at})
        if not hits:
            return {"counted": 0, "duplicates": 0, "late": late}
        batch_id = uuid.uuid4().hex
        self.batches.insert_one({"_id": batch_id, "state": "pending", "created_at": now})
        owned = insert_new(self.hits, [{**hit, "batch": batch_id} for hit in hits])
        self._remember_online(hits, now)
        counted = self._apply(batch_id, owned)
        return {"counted": counted, "duplicates": len(hits) - counted, "late": late}

    def _apply(self, batch_id: str, owned: list[dict] | None = None) -> int:
        """Steps 3–5 for one batch, from the hits it owns; safe to run again (``owned`` is
        read back from the database when not known, as in a recovery)."""
        recovering = owned is None
        if recovering:
            owned = list(self.hits.find({"batch": batch_id}, {"path": 1, "referrer": 1,
                                                              "visitor": 1, "viewed_at": 1}))
        per_day: dict[str, Counter] = defaultdict(Counter)
        visitor_keys, labels = {}, {}
        for hit in owned:
            moment = hit["viewed_at"].astimezone(LOCAL_TZ)
            day = moment.strftime("%Y-%m-%d")
            path_key = label_key("path", hit["path"])
            ref_key = label_key("referrer", hit["referrer"])
            labels[path_key] = {"_id": path_key, "kind": "path", "value": hit["path"]}
            labels[ref_key] = {"_id": ref_key, "kind": "referrer", "value": hit["referrer"]}
            counts = per_day[day]
            counts["views"] += 1
            counts[f"hours.{moment:%H}"] += 1
            counts[f"paths.{path_key}"] += 1
            counts[f"referrers.{ref_key}"] += 1
            if hit.get("visitor"):
                key = f"{day}:{hit['visitor']}"
                visitor_keys[key] = {"_id": key, "day": day, "batch": batch_id}
        insert_new(self.labels, list(labels.values()))
        new_visitors = insert_new(self.day_visitors, list(visitor_keys.values()))
        if recovering and visitor_keys:  # those this batch inserted before the crash count too
            new_visitors = list(self.day_visitors.find(
                {"_id": {"$in": list(visitor_keys)}, "batch": batch_id}, {"day": 1}))
        for doc in new_visitors:
            per_day[doc["day"]]["visitors"] += 1
        targets = {f"day:{day}": dict(counts) for day, counts in per_day.items()}
        if owned:
            targets[TOTAL_ID] = {"views": len(owned)}
        for counter_id, increments in targets.items():
            self._increment_once(counter_id, batch_id, increments)
        self.batches.update_one({"_id": batch_id}, {"$set": {"state": "done", "views": len(owned)}})
        for counter_id in targets:
            self.counters.update_one({"_id": counter_id}, {"$pull": {"applied": batch_id}})
        return len(owned)

    def _increment_once(self, counter_id: str, batch_id: str, increments: dict) -> None:
        try:
            self.counters.update_one({"_id": counter_id, "applied": {"$ne": batch_id}},
                                     {"$inc": increments, "$push": {"applied": batch_id}},
                                     upsert=True)
        except DuplicateKeyError:
            pass  # the counter exists and already holds this batch: applied before

    def _remember_online(self, hits: list[dict], now: datetime) -> None:
        """One key per visitor and minute (a set, so replays change nothing)."""
        keys = {}
        for hit in hits:
            if hit.get("visitor") and hit["viewed_at"] >= now - ONLINE_WINDOW:
                minute = hit["viewed_at"].strftime("%Y%m%d%H%M")
                keys[f"{minute}:{hit['visitor']}"] = {"_id": f"{minute}:{hit['visitor']}"}
        insert_new(self.online, list(keys.values()))

    # -- upkeep (timers) ---------------------------------------------------------------------
    def recover(self, now: datetime | None = None, limit: int = 50) -> int:
        """Finish batches a crash left pending; returns how many. Each is leased first, so two
        processes never finish the same batch at once."""
        now = now or datetime.now(timezone.utc)
        finished = 0
        for _ in range(limit):
            batch = self.batches.find_one_and_update(
                {"state": "pending", "created_at": {"$lt": now - RECOVERY_AFTER}},
                {"$set": {"created_at": now, "recovered": True}})
            if batch is None:
                break
            self._apply(batch["_id"])
            finished += 1
        return finished

    def prune(self, now: datetime | None = None) -> dict[str, int]:
        """Forget raw hits, visitor keys and finished batches past their use."""
        now = now or datetime.now(timezone.utc)
        cutoff = now - RETENTION
        minute = (now - 2 * ONLINE_WINDOW).strftime("%Y%m%d%H%M")
        return {
            "hits": self.hits.delete_many({"viewed_at": {"$lt": cutoff}}).deleted_count,
            "day_visitors": self.day_visitors.delete_many(
                {"day": {"$lt": local_day(cutoff)}}).deleted_count,
            "online": self.online.delete_many({"_id": {"$lt": minute}}).deleted_count,
            "batches": self.batches.delete_many(
                {"state": "done", "created_at": {"$lt": now - timedelta(days=1)}}).deleted_count,
        }

    # -- the counter -------------------------------------------------------------------------
    def ensure_base_total(self, base_total: int) -> int:
        """Set the figure the counter continues from, once; later calls keep the first value."""
        self.settings.update_one({"_id": COUNTER_ID},
                                 {"$setOnInsert": {"base_total": int(base_total)}}, upsert=True)
        return self.base_total()

    def base_total(self) -> int:
        doc = self.settings.find_one({"_id": COUNTER_ID})
        return int(doc["base_total"]) if doc else 0

    def visitors(self, now: datetime | None = None) -> dict[str, int]:
        """``total`` views (continuing the old counter), ``today``'s views and unique visitors,
        and ``online``: distinct visitors seen in the last five minutes."""
        now = now or datetime.now(timezone.utc)
        docs = {d["_id"]: d for d in self.counters.find(
            {"_id": {"$in": [TOTAL_ID, f"day:{local_day(now)}"]}},
            {"views": 1, "visitors": 1})}
        today = docs.get(f"day:{local_day(now)}", {})
        since = (now - ONLINE_WINDOW).strftime("%Y%m%d%H%M")
        online = {key.split(":", 1)[1] for key in
                  (d["_id"] for d in self.online.find({"_id": {"$gte": since}}, {"_id": 1}))}
        return {
            "total": self.base_total() + int(docs.get(TOTAL_ID, {}).get("views", 0)),
            "today": int(today.get("views", 0)),
            "today_visitors": int(today.get("visitors", 0)),
            "online": len(online),
        }

    # -- the staff summary -------------------------------------------------------------------
    def summary(self, first: date, last: date, top: int = 20) -> dict[str, Any]:
        """Views, unique visitors, series by day (and by hour for short ranges), top pages and
        referrer hosts between two local days, both included."""
        ids = [f"day:{first + timedelta(days=i)}" for i in range((last - first).days + 1)]
        docs = {d["_id"]: d for d in self.counters.find({"_id": {"$in": ids}})}
        days, hours = [], []
        pages, referrers = Counter(), Counter()
        for counter_id in ids:
            doc = docs.get(counter_id, {})
            day = counter_id.removeprefix("day:")
            days.append({"date": day, "views": int(doc.get("views", 0)),
                         "visitors": int(doc.get("visitors", 0))})
            if len(ids) <= 31:
                per_hour = doc.get("hours", {})
                hours.extend({"hour": f"{day}T{h:02d}", "views": int(per_hour.get(f"{h:02d}", 0))}
                             for h in range(24))
            pages.update(doc.get("paths", {}))
            referrers.update(doc.get("referrers", {}))
        top_pages, top_referrers = pages.most_common(top), referrers.most_common(top)
        names = {d["_id"]: d["value"] for d in self.labels.find(
            {"_id": {"$in": [k for k, _ in top_pages + top_referrers]}})}
        return {
            "views": sum(d["views"] for d in days),
            "visitors": sum(d["visitors"] for d in days),
            "days": days,
            "hours": hours,
            "top_pages": [{"path": names.get(k, "?"), "views": int(n)} for k, n in top_pages],
            "referrers": [{"host": names.get(k, "?"), "views": int(n)} for k, n in top_referrers],
        }
