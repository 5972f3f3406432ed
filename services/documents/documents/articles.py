"""The documents service's own copy of what site-wide search knows about news articles.

Articles belong to the news service; this service learns them from ``news.events`` and keeps the
latest state per article (or a tombstone once unpublished) in its own database, so the search
index can be rebuilt from MongoDB at any time and late events can be recognised as late.

Ordering rule: the highest ``revision`` wins. An event whose revision is not above the stored
one changes nothing, so redelivered and out-of-order events are harmless and an
``article_unpublished`` at revision 5 is never undone by an ``article_published`` at revision 4
arriving afterwards (the tombstone keeps revision 5).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterator

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError


class ArticleCopies:
    def __init__(self, database: Database):
        self.articles = database["articles"]

    def ensure_indexes(self) -> None:
        self.articles.create_index("updated_at")

    def record(self, article_id: str, revision: int, state: dict[str, Any] | None) -> bool:
        """Keep ``state`` (None: unpublished) at ``revision`` unless a newer revision is known.

        Returns False when the stored revision is higher (the event is stale). An equal revision
        is accepted again, so a handler retried after a failed index write completes it.
        """
        now = datetime.now(timezone.utc)
        try:
            self.articles.update_one(
                {"_id": article_id, "revision": {"$lte": revision}},
                {"$set": {"revision": revision, "published": state is not None,
                          "state": state, "updated_at": now}},
                upsert=True)
        except DuplicateKeyError:
            return False  # the article is stored with a higher revision
        return True

    def published(self, since: datetime | None = None) -> Iterator[dict[str, Any]]:
        query: dict[str, Any] = {"published": True}
        if since is not None:
            query = {"updated_at": {"$gte": since}}  # unpublished ones too: the index drops them
        return self.articles.find(query).sort("_id", 1)


def to_search(state: dict[str, Any]) -> dict[str, Any]:
    """The search-index body of a published article (the catalogue's ``article_state``)."""
    return {"kind": "article", "ref_id": state["article_id"], "slug": state["slug"],
            "title": state["title"], "summary": state.get("summary", ""),
            "body": state.get("body_text", ""),
            "category": state["category"]["slug"], "category_name": state["category"]["name"],
            "date": state["published_at"], "year": int(state["published_at"][:4])}


def index_id(article_id: str) -> str:
    return f"article-{article_id}"
