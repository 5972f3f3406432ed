"""Page views, unique visitors and the visitor counter, as roll-ups that redelivery cannot skew.

Figures are never recounted from raw hits; they live in small counter documents, and each
batch of ``page_viewed`` events is applied to them exactly once:

1. a ``batches`` document ``{_id: B, days}`` is written first: B is pending while it exists;
2. the hits are inserted with ``_id = event_id`` and ``batch = B`` into the collection of
   their (local) day, ``hits_YYYYMMDD``. An event already stored (a redelivery, a republish)
   fails on its key and belongs to the batch that stored it first, so every hit is owned by
   exactly one batch;
3. the day's unique visitors are inserted the same way (``visitors_YYYYMMDD``, ``batch = B``);
4. the increments are computed from what B owns and applied to the counter documents with a
   guard: ``{_id: counter, applied: {$ne: B}}`` + ``$push: {applied: B}`` is one atomic update,
   so applying B twice is a no-op (the second upsert fails on the key);
5. B's document is deleted (B is done), and only then B is pulled out of the counters'
   ``applied`` lists.

A crash anywhere leaves B's document; ``recover`` (run on a timer) re-runs steps 3–5 for
batches pending longer than ``RECOVERY_AFTER`` from what B owns, which is idempotent. Raw hits
and visitor keys are kept for ``RETENTION`` (as long as the consumer inbox remembers event ids)
and dropped a day at a time; an event older than that is refused as too late, so it can never
be counted twice either.

Why a collection per day: FerretDB 1.24 (SQLite) answers only ``_id`` equality without reading
the whole collection (no secondary index is used, not even ``_id`` ranges or ``$in``), and has
no TTL. Per-day collections keep every scan (a recovery, a lookup) to one day, and pruning is
dropping a collection.
"""
from __future__ import annotations

import hashlib
import threading
import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # "today" is the portal's day, not UTC's
ONLINE_WINDOW = timedelta(minutes=5)
# ``online`` is counted by a timer this often and read from one document; a count older than
# ONLINE_STALE (the timer stopped) is made again by the reader
ONLINE_REFRESH_S = 5
ONLINE_STALE = timedelta(seconds=3 * ONLINE_REFRESH_S)
ONLINE_ID = "online"
RETENTION = timedelta(days=30)
RECOVERY_AFTER = timedelta(minutes=10)  # longer than a worker waits out an outage (5 min)
COUNTER_ID = "visitor_counter"
TOTAL_ID = "total"
DIRECT = "(direct)"
KNOWN_KEYS_LIMIT = 200_000  # keys remembered per collection to skip lookups (memory bound)


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


def insert_new(collection, docs: list[dict], known: set | None = None, *,
               look_up: bool = True) -> list[dict]:
    """insert_many that skips documents whose key is taken; returns the ones it inserted.

    Keys that exist are looked up first: FerretDB turns a bulk insert that hits a duplicate
    into one slow insert per document, while a lookup plus a clean insert stay fast. ``known``
    (keys seen to exist, kept by the caller) spares even the lookup (``look_up=False`` skips
    it where duplicates are rare, as for hits); a key another process
    inserts meanwhile still fails on the unique ``_id`` and is reported as not inserted.
    """
    fresh = [doc for doc in docs if known is None or doc["_id"] not in known]
    if fresh and look_up:
        taken = {d["_id"] for d in collection.find({"_id": {"$in": [d["_id"] for d in fresh]}},
                                                   {"_id": 1})}
        fresh = [doc for doc in fresh if doc["_id"] not in taken]
        if known is not None:
            known.update(taken)
    if not fresh:
        return []
    try:
        collection.insert_many(fresh, ordered=False)
        inserted = fresh
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != 11000 for e in errors):
            raise
        failed = {e["index"] for e in errors}
        inserted = [doc for i, doc in enumerate(fresh) if i not in failed]
    if known is not None:
        if len(known) > KNOWN_KEYS_LIMIT:
            known.clear()
        known.update(doc["_id"] for doc in fresh)
    return inserted


def _compact(day: str) -> str:
    return day.replace("-", "")


class VisitStore:
    def __init__(self, database: Database):
        self.database = database
        self.online = database["online_visitors"]
        self.counters = database["counters"]
        self.labels = database["labels"]
        self.batches = database["batches"]
        self.settings = database["settings"]
        # FerretDB 1.24 (SQLite) loses concurrent updates of one document (400 concurrent
        # $inc of a field: 45 applied, all 400 reported as modified), so this process writes
        # the counter documents one batch at a time (MongoDB itself needs no such lock).
        self._counter_writes = threading.Lock()
        self._base_total: int | None = None
        # keys known to exist, per collection: most visitors, labels and minutes repeat
        self._known: dict[str, set] = {"labels": set(), "day_visitors": set(), "online": set()}

    def hits(self, day: str):
        return self.database[f"hits_{_compact(day)}"]

    def day_visitors(self, day: str):
        return self.database[f"visitors_{_compact(day)}"]

    # -- ingest ------------------------------------------------------------------------------
    def record_batch(self, events: Iterable[dict[str, Any]], now: datetime | None = None
                     ) -> dict[str, int]:
        """Count a batch of ``page_viewed`` envelopes once each; returns what happened."""
        now = now or datetime.now(timezone.utc)
        too_old = now - RETENTION + timedelta(hours=1)
        by_day: dict[str, list[dict]] = defaultdict(list)
        late = 0
        for event in events:
            data = event["data"]
            viewed_at = _parse_time(data["viewed_at"])
            if viewed_at < too_old:
                late += 1  # older than the ids we remember: it could be a replay
                continue
            by_day[local_day(viewed_at)].append({
                "_id": event["event_id"], "path": data["path"],
                "referrer": referrer_host(data.get("referrer")),
                "visitor": data.get("visitor"), "viewed_at": viewed_at})
        received = sum(len(hits) for hits in by_day.values())
        if not received:
            return {"counted": 0, "duplicates": 0, "late": late}
        batch_id = uuid.uuid4().hex
        self.batches.insert_one({"_id": batch_id, "created_at": now, "days": sorted(by_day)})
        owned = []
        for day, hits in by_day.items():
            owned += insert_new(self.hits(day), [{**hit, "batch": batch_id} for hit in hits],
                                look_up=False)
            self._remember_online(hits, now)
        counted = self._apply(batch_id, owned)
        return {"counted": counted, "duplicates": received - counted, "late": late}

    def _apply(self, batch_id: str, owned: list[dict] | None = None,
               days: list[str] = ()) -> int:
        """Steps 3–5 for one batch, from the hits it owns; safe to run again (``owned`` is
        read back from the ``days`` collections when not known, as in a recovery)."""
        recovering = owned is None
        if recovering:
            owned = [hit for day in days for hit in self.hits(day).find(
                {"batch": batch_id}, {"path": 1, "referrer": 1, "visitor": 1, "viewed_at": 1})]
        per_day: dict[str, Counter] = defaultdict(Counter)
        visitor_keys: dict[str, dict] = defaultdict(dict)
        labels = {}
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
                visitor_keys[day][hit["visitor"]] = {"_id": hit["visitor"], "batch": batch_id}
        insert_new(self.labels, list(labels.values()), self._known["labels"])
        for day, keys in visitor_keys.items():
            new = self._new_visitors(day, list(keys.values()), batch_id, recovering)
            per_day[day]["visitors"] += new
        targets = {f"day:{day}": dict(counts) for day, counts in per_day.items()}
        if owned:
            targets[TOTAL_ID] = {"views": len(owned)}
        with self._counter_writes:  # see __init__: one writer of counters per process
            for counter_id, increments in targets.items():
                self._increment_once(counter_id, batch_id, increments)
            self.batches.delete_one({"_id": batch_id})  # done
            for counter_id in targets:
                self.counters.update_one({"_id": counter_id}, {"$pull": {"applied": batch_id}})
        return len(owned)

    def _new_visitors(self, day: str, docs: list[dict], batch_id: str, recovering: bool) -> int:
        """How many of these visitors this batch saw first on ``day``."""
        collection = self.day_visitors(day)
        if recovering:  # those this batch inserted before the crash count too
            insert_new(collection, docs)
            wanted = {doc["_id"] for doc in docs}
            return sum(1 for doc in collection.find({"batch": batch_id}, {"_id": 1})
                       if doc["_id"] in wanted)
        known = self._known["day_visitors"]
        fresh = [doc for doc in docs if f"{day}:{doc['_id']}" not in known]
        inserted = insert_new(collection, fresh, look_up=False)
        if len(known) > KNOWN_KEYS_LIMIT:
            known.clear()
        known.update(f"{day}:{doc['_id']}" for doc in fresh)
        return len(inserted)

    def _increment_once(self, counter_id: str, batch_id: str, increments: dict) -> None:
        """Apply ``increments`` unless this batch already did. A duplicate key on the upsert
        means either "applied before" or a concurrent writer won a race to create or update
        the document (FerretDB reports that too): only the document itself can tell, so ask
        it and try again when the batch is not in it."""
        for _ in range(20):
            try:
                self.counters.update_one({"_id": counter_id, "applied": {"$ne": batch_id}},
                                         {"$inc": increments, "$push": {"applied": batch_id}},
                                         upsert=True)
                return
            except DuplicateKeyError:
                if self.counters.find_one({"_id": counter_id, "applied": batch_id}, {"_id": 1}):
                    return  # applied before
        raise RuntimeError(f"counter {counter_id} could not be updated for batch {batch_id}")

    def _remember_online(self, hits: list[dict], now: datetime) -> None:
        """One key per visitor and minute (a set, so replays change nothing)."""
        keys = {}
        for hit in hits:
            if hit.get("visitor") and hit["viewed_at"] >= now - ONLINE_WINDOW:
                minute = hit["viewed_at"].strftime("%Y%m%d%H%M")
                keys[f"{minute}:{hit['visitor']}"] = {"_id": f"{minute}:{hit['visitor']}"}
        insert_new(self.online, list(keys.values()), self._known["online"])

    # -- upkeep (timers) ---------------------------------------------------------------------
    def recover(self, now: datetime | None = None, limit: int = 50) -> int:
        """Finish batches a crash left pending; returns how many. Each is leased first (its
        clock reset), so two processes never finish the same batch at once."""
        now = now or datetime.now(timezone.utc)
        finished = 0
        for _ in range(limit):
            batch = self.batches.find_one_and_update(
                {"created_at": {"$lt": now - RECOVERY_AFTER}},
                {"$set": {"created_at": now, "recovered": True}})
            if batch is None:
                break
            self._apply(batch["_id"], days=batch.get("days", []))
            finished += 1
        return finished

    def prune(self, now: datetime | None = None) -> dict[str, int]:
        """Drop the days of raw hits and visitor keys past the retention; forget old minutes."""
        now = now or datetime.now(timezone.utc)
        oldest_kept = _compact(local_day(now - RETENTION))
        dropped = 0
        for name in self.database.list_collection_names():
            prefix, _, day = name.partition("_")
            if prefix in ("hits", "visitors") and day.isdigit() and day < oldest_kept:
                self.database.drop_collection(name)
                dropped += 1
        minute = (now - 2 * ONLINE_WINDOW).strftime("%Y%m%d%H%M")
        return {"collections": dropped,
                "online": self.online.delete_many({"_id": {"$lt": minute}}).deleted_count}

    # -- the counter -------------------------------------------------------------------------
    def ensure_base_total(self, base_total: int) -> int:
        """Set the figure the counter continues from, once; later calls keep the first value."""
        self.settings.update_one({"_id": COUNTER_ID},
                                 {"$setOnInsert": {"base_total": int(base_total)}}, upsert=True)
        return self.base_total()

    def base_total(self) -> int:
        if self._base_total is None:  # set once for good ($setOnInsert): remembered when set
            doc = self.settings.find_one({"_id": COUNTER_ID})
            if doc is None:
                return 0
            self._base_total = int(doc["base_total"])
        return self._base_total

    def visitors(self, now: datetime | None = None) -> dict[str, int]:
        """``total`` views (continuing the old counter), ``today``'s views and unique visitors,
        and ``online``: distinct visitors seen in the last five minutes."""
        now = now or datetime.now(timezone.utc)
        # one find_one each: an _id equality is what FerretDB answers without a scan
        total = self.counters.find_one({"_id": TOTAL_ID}, {"views": 1}) or {}
        today = self.counters.find_one({"_id": f"day:{local_day(now)}"},
                                       {"views": 1, "visitors": 1}) or {}
        online = self.counters.find_one({"_id": ONLINE_ID}, {"visitors": 1, "at": 1})
        if online is None or online["at"] < now - ONLINE_STALE:
            online = {"visitors": self.refresh_online(now)}
        return {
            "total": self.base_total() + int(total.get("views", 0)),
            "today": int(today.get("views", 0)),
            "today_visitors": int(today.get("visitors", 0)),
            "online": int(online["visitors"]),
        }

    def refresh_online(self, now: datetime | None = None) -> int:
        """Count the distinct visitors of the last five minutes and keep the figure where
        ``visitors`` reads it. The count reads every visitor-minute key of the window (on
        FerretDB a range reads the whole collection): made on every counter read, it cost
        tens of milliseconds of both cores under load; a timer makes it every
        ``ONLINE_REFRESH_S`` instead. Any replica may make it: the figure is set, not added."""
        now = now or datetime.now(timezone.utc)
        since = (now - ONLINE_WINDOW).strftime("%Y%m%d%H%M")
        online = len({key.split(":", 1)[1] for key in (
            d["_id"] for d in self.online.find({"_id": {"$gte": since}}, {"_id": 1}))})
        figure = {"$set": {"visitors": online, "at": now}}
        try:
            self.counters.update_one({"_id": ONLINE_ID}, figure, upsert=True)
        except DuplicateKeyError:  # another reader or replica made the document meanwhile
            self.counters.update_one({"_id": ONLINE_ID}, figure)
        return online

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
