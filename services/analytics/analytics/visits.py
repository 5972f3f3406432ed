"""Page views and the visitor counter, in the analytics service's own database.

Each ``page_viewed`` event becomes one ``hits`` document whose ``_id`` is the event id, so a
redelivered event can never be counted twice: counts are computed from the set of hits, never
kept in a counter that a replay could bump. ``total`` continues from the old site's figure
(``base_total``, 331663 for the demo).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # "today" is the portal's day, not UTC's
ONLINE_WINDOW = timedelta(minutes=5)
COUNTER_ID = "visitor_counter"


class VisitStore:
    def __init__(self, database: Database):
        self.hits = database["hits"]
        self.settings = database["settings"]

    def ensure_indexes(self) -> None:
        self.hits.create_index([("viewed_at", ASCENDING)])

    def record(self, event: dict[str, Any]) -> bool:
        """Store one page view; False when this event was already stored."""
        data = event["data"]
        try:
            self.hits.insert_one({
                "_id": event["event_id"], "path": data["path"],
                "referrer": data.get("referrer"), "title": data.get("title"),
                "visitor": data.get("visitor"),
                "viewed_at": datetime.fromisoformat(data["viewed_at"]).astimezone(timezone.utc),
            })
            return True
        except DuplicateKeyError:
            return False

    def ensure_base_total(self, base_total: int) -> int:
        """Set the figure the counter continues from, once; later calls keep the first value."""
        self.settings.update_one({"_id": COUNTER_ID},
                                 {"$setOnInsert": {"base_total": int(base_total)}}, upsert=True)
        return self.base_total()

    def base_total(self) -> int:
        doc = self.settings.find_one({"_id": COUNTER_ID})
        return int(doc["base_total"]) if doc else 0

    def visitors(self, now: datetime | None = None) -> dict[str, int]:
        now = now or datetime.now(timezone.utc)
        local_midnight = now.astimezone(LOCAL_TZ).replace(hour=0, minute=0, second=0,
                                                          microsecond=0)
        online_since = now - ONLINE_WINDOW
        recent_visitors = {v for v in self.hits.distinct("visitor",
                                                         {"viewed_at": {"$gte": online_since}})
                           if v}
        return {
            "total": self.base_total() + self.hits.count_documents({}),
            "today": self.hits.count_documents(
                {"viewed_at": {"$gte": local_midnight.astimezone(timezone.utc)}}),
            "online": len(recent_visitors),
        }
