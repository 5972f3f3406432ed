"""Statistics over the other services' events, for leadership's reports and a dashboard.

Each fact is stored once under its natural key, and figures are counted from those facts with
``$group`` (no ``$facet``/``$lookup``: FerretDB has neither), so a redelivered or re-sent
event changes nothing, whatever the consumer inbox remembers:

* an article counts once, in the month (local time) it was first published, under its category;
* a document counts once, in the month it was first indexed (re-indexing is not a new document);
* a feedback counts as received once, in the month it was received, per topic and unit; it
  counts as resolved once, in the month it first reached ``answered`` or ``closed``, under the
  topic and unit it had then.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from analytics.visits import LOCAL_TZ

RESOLVED = frozenset({"answered", "closed"})
NONE = "(none)"


def local_month(value: str) -> str:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m")


class StatisticsStore:
    def __init__(self, database: Database):
        self.articles = database["stat_articles"]
        self.documents = database["stat_documents"]
        self.received = database["stat_feedback_received"]
        self.resolved = database["stat_feedback_resolved"]

    @staticmethod
    def _once(collection, doc: dict[str, Any]) -> bool:
        try:
            collection.insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    def article_published(self, data: dict[str, Any]) -> bool:
        category = data.get("category") or {}
        return self._once(self.articles, {
            "_id": data["article_id"], "month": local_month(data["published_at"]),
            "category": category.get("slug") or NONE, "category_name": category.get("name")})

    def document_indexed(self, data: dict[str, Any], occurred_at: str) -> bool:
        return self._once(self.documents, {
            "_id": data["document_id"], "month": local_month(occurred_at),
            "type": data.get("type") or NONE})

    def feedback_received(self, data: dict[str, Any]) -> bool:
        return self._once(self.received, {
            "_id": data["feedback_id"], "month": local_month(data["received_at"]),
            "topic": data.get("topic") or NONE, "unit": data.get("unit") or NONE,
            "kind": data.get("kind")})

    def feedback_status_changed(self, data: dict[str, Any]) -> bool:
        if data["status"] not in RESOLVED:
            return False
        return self._once(self.resolved, {
            "_id": data["feedback_id"], "month": local_month(data["changed_at"]),
            "topic": data.get("topic") or NONE, "unit": data.get("unit") or NONE})

    # -- figures -----------------------------------------------------------------------------
    @staticmethod
    def _grouped(collection, first: str, last: str, keys: list[str]) -> list[dict[str, Any]]:
        group_id = {key: f"${key}" for key in ["month", *keys]}
        rows = collection.aggregate([
            {"$match": {"month": {"$gte": first, "$lte": last}}},
            {"$group": {"_id": group_id, "count": {"$sum": 1}}}])
        out = [{**row["_id"], "count": int(row["count"])} for row in rows]
        return sorted(out, key=lambda r: tuple(str(r[k]) for k in ["month", *keys]))

    def summary(self, first: date, last: date) -> dict[str, Any]:
        """Figures per month for the months that ``first``–``last`` touch."""
        months = (first.strftime("%Y-%m"), last.strftime("%Y-%m"))
        received = self._grouped(self.received, *months, ["topic", "unit"])
        resolved = self._grouped(self.resolved, *months, ["topic", "unit"])
        feedback: dict[tuple, dict[str, Any]] = {}
        for rows, field in ((received, "received"), (resolved, "resolved")):
            for row in rows:
                key = (row["month"], row["topic"], row["unit"])
                entry = feedback.setdefault(key, {"month": key[0], "topic": key[1],
                                                  "unit": key[2], "received": 0, "resolved": 0})
                entry[field] += row["count"]
        return {
            "articles_published": self._grouped(self.articles, *months, ["category"]),
            "documents_indexed": self._grouped(self.documents, *months, ["type"]),
            "feedback": [feedback[k] for k in sorted(feedback)],
        }
