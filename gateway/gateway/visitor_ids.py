"""Who is a visitor, without cookies and without keeping an address.

* **Unique visitors per day**: ``sha256(salt of the day | address | user agent)``, cut to 32 hex
  digits. The salt is random, made by whichever gateway worker first needs it on a (local,
  Asia/Ho_Chi_Minh) day, and kept in the gateway's database so every worker and replica hashes
  alike; when a day's salt is made, older salts are deleted. Once a salt is gone, nobody (us
  included) can link a hash back to an address or to the same visitor on another day.
* **Bots** are recognised by their user agent with ``crawlerdetect`` (a maintained list of
  crawler patterns); an empty user agent counts as a bot too. Their views are not counted.
* **Voters** get a per-poll pseudonym, an HMAC of poll, address and user agent under the
  gateway's secret ``visitor-key``: stable for the poll's life (one vote per visitor), different
  in every poll, never the raw values.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from crawlerdetect import CrawlerDetect
from prometheus_client import Counter
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
BOT_VIEWS = Counter("portal_pageviews_bots_total", "Page views not counted: the user agent is a bot")

_detector = CrawlerDetect()
_detector_lock = threading.Lock()  # the detector keeps its last match on the instance


def is_bot(user_agent: str | None) -> bool:
    if not user_agent or not user_agent.strip():
        return True
    with _detector_lock:
        return bool(_detector.isCrawler(user_agent[:1000]))


def visitor_hash(salt: str, address: str, user_agent: str) -> str:
    return hashlib.sha256(f"{salt}|{address}|{user_agent}".encode()).hexdigest()[:32]


def voter_id(key: str, poll_id: str, address: str, user_agent: str) -> str:
    return hmac.new(key.encode(), f"poll:{poll_id}|{address}|{user_agent}".encode(),
                    hashlib.sha256).hexdigest()[:32]


def sender_id(key: str, address: str, user_agent: str) -> str:
    """A stable pseudonym of a feedback sender (to link near-duplicates); the raw values are not kept."""
    return hmac.new(key.encode(), f"feedback-sender|{address}|{user_agent}".encode(),
                    hashlib.sha256).hexdigest()[:32]


def local_day(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).astimezone(LOCAL_TZ).strftime("%Y-%m-%d")


class DailySalts:
    """The salt of the day, shared by all workers through ``collection`` (``visitor_salts``)."""

    def __init__(self, collection: Collection):
        self.collection = collection
        self._cached: tuple[str, str] | None = None  # (day, salt)
        self._lock = threading.Lock()

    def salt(self, now: datetime | None = None) -> str:
        day = local_day(now)
        cached = self._cached
        if cached and cached[0] == day:
            return cached[1]
        with self._lock:
            if self._cached and self._cached[0] == day:
                return self._cached[1]
            salt = self._fetch_or_make(day)
            self._cached = (day, salt)
            return salt

    def _fetch_or_make(self, day: str) -> str:
        doc = self.collection.find_one({"_id": day})
        if doc is None:
            try:
                self.collection.insert_one({"_id": day, "salt": secrets.token_hex(32),
                                            "created_at": datetime.now(timezone.utc)})
            except DuplicateKeyError:
                pass  # another worker made it first: use theirs
            doc = self.collection.find_one({"_id": day})
            # yesterday's salt (and anything older) is of no use any more: forget it for good
            self.collection.delete_many({"_id": {"$lt": day}})
        return doc["salt"]
