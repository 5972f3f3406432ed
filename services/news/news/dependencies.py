"""The news service's store: categories and articles in its own MongoDB database."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from portal_common.errors import Conflict, Invalid, NotFound
from portal_common.events import iso_utc, new_event
from portal_common.events import outbox

from portal_common.schemas.news import ArticleDraft, CategoryIn
from news.text import make_slug, plain_text, sanitize_html

DRAFT, PUBLISHED = "draft", "published"
MAX_SLUG_ATTEMPTS = 50


def _iso(value: datetime | None) -> str | None:
    return iso_utc(value) if value is not None else None


class ArticleStore:
    def __init__(self, database: Database):
        self.categories = database["categories"]
        self.articles = database["articles"]

    def ensure_indexes(self) -> None:
        self.articles.create_index("slug", unique=True)
        self.articles.create_index([("status", ASCENDING), ("category", ASCENDING),
                                    ("published_at", DESCENDING)])

    # categories ---------------------------------------------------------------------------
    def ensure_category(self, category: CategoryIn) -> dict[str, Any]:
        if category.parent and not self.categories.find_one({"_id": category.parent}):
            raise Invalid("unknown parent category",
                          [{"field": "parent", "message": f"no category '{category.parent}'"}])
        doc = self.categories.find_one_and_update(
            {"_id": category.slug},
            {"$set": {"name": category.name, "parent": category.parent, "order": category.order}},
            upsert=True, return_document=ReturnDocument.AFTER)
        return self._category_out(doc)

    def list_categories(self) -> list[dict[str, Any]]:
        return [self._category_out(c) for c in self.categories.find().sort(
            [("order", ASCENDING), ("_id", ASCENDING)])]

    def _category_names(self) -> dict[str, dict[str, Any]]:
        """Every category by slug: the tree is small, and one read beats one read per level."""
        return {c["_id"]: c for c in self.categories.find({}, {"name": 1, "parent": 1})}

    def breadcrumb(self, slug: str, categories: dict[str, dict[str, Any]] | None = None
                   ) -> list[dict[str, str]]:
        """The category and its ancestors, outermost first ("Tin tức - Sự kiện" › "Ban Tuyên giáo")."""
        categories = self._category_names() if categories is None else categories
        trail, seen = [], set()
        while slug and slug not in seen and slug in categories:
            seen.add(slug)
            trail.append({"slug": slug, "name": categories[slug]["name"]})
            slug = categories[slug].get("parent")
        return list(reversed(trail))

    @staticmethod
    def _category_out(doc: dict[str, Any]) -> dict[str, Any]:
        return {"slug": doc["_id"], "name": doc["name"], "parent": doc.get("parent"),
                "order": doc.get("order", 0)}

    # articles -----------------------------------------------------------------------------
    def create(self, draft: ArticleDraft, actor: str) -> dict[str, Any]:
        if not self.categories.find_one({"_id": draft.category}):
            raise Invalid("unknown category",
                          [{"field": "category", "message": f"no category '{draft.category}'"}])
        now = datetime.now(timezone.utc)
        doc = {
            "_id": uuid.uuid4().hex,
            "title": draft.title,
            "summary": draft.summary,
            "body_html": sanitize_html(draft.body_html),
            "category": draft.category,
            "credits": draft.credits,
            "source_unit": draft.source_unit,
            "tags": draft.tags,
            "status": DRAFT,
            "revision": 1,
            "created_at": now, "created_by": actor,
            "updated_at": now, "updated_by": actor,
            "published_at": None,
            "outbox": [],
        }
        base = make_slug(draft.title)
        for attempt in range(MAX_SLUG_ATTEMPTS):
            # a clash with another article's slug gets a numeric suffix, never an error
            doc["slug"] = base if attempt == 0 else f"{base}-{attempt + 1}"
            try:
                self.articles.insert_one(doc)
                return self.to_public(doc)
            except DuplicateKeyError:
                continue
        raise Conflict(f"no free slug for '{base}'")

    def publish(self, article_id: str, actor: str) -> tuple[dict[str, Any], bool]:
        """Publish a draft; returns (article, changed). Publishing twice changes nothing."""
        for _ in range(5):
            doc = self.articles.find_one({"_id": article_id}, {"outbox": 0})
            if doc is None:
                raise NotFound(f"no article {article_id}")
            if doc["status"] == PUBLISHED:
                return self.to_public(doc), False
            now = datetime.now(timezone.utc)
            revision = doc["revision"] + 1
            doc.update(status=PUBLISHED, published_at=now, revision=revision,
                       updated_at=now, updated_by=actor)
            event = new_event("news", "article_published", self._event_data(doc))
            # state change and the event announcing it in ONE document update (the outbox);
            # the revision condition makes a concurrent change retry instead of being lost
            update = {"$set": {"status": PUBLISHED, "published_at": now, "revision": revision,
                               "updated_at": now, "updated_by": actor}}
            update.update(outbox.stage([event]))
            result = self.articles.update_one({"_id": article_id, "revision": revision - 1}, update)
            if result.modified_count == 1:
                return self.to_public(doc), True
        raise Conflict(f"article {article_id} is being changed by someone else; try again")

    def get_published(self, slug: str) -> dict[str, Any]:
        doc = self.articles.find_one({"slug": slug, "status": PUBLISHED}, {"outbox": 0})
        if doc is None:
            raise NotFound(f"no published article '{slug}'")
        return self.to_public(doc, with_related=True)

    def get(self, article_id: str) -> dict[str, Any]:
        doc = self.articles.find_one({"_id": article_id}, {"outbox": 0})
        if doc is None:
            raise NotFound(f"no article {article_id}")
        return self.to_public(doc)

    def list_published(self, category: str | None, page: int, per_page: int) -> dict[str, Any]:
        query: dict[str, Any] = {"status": PUBLISHED}
        if category:
            query["category"] = category
        total = self.articles.count_documents(query)
        cursor = (self.articles.find(query, {"body_html": 0, "outbox": 0})
                  .sort([("published_at", DESCENDING), ("_id", DESCENDING)])
                  .skip((page - 1) * per_page).limit(per_page))
        categories = self._category_names()
        return {"items": [self.to_public(d, summary_only=True, categories=categories)
                          for d in cursor],
                "page": page, "per_page": per_page, "total": total}

    def related(self, doc: dict[str, Any], limit: int = 5) -> list[dict[str, Any]]:
        """"Các tin khác": the newest other published articles of the same category."""
        cursor = (self.articles.find(
            {"status": PUBLISHED, "category": doc["category"], "_id": {"$ne": doc["_id"]}},
            {"title": 1, "slug": 1, "published_at": 1})
            .sort([("published_at", DESCENDING)]).limit(limit))
        return [{"id": d["_id"], "slug": d["slug"], "title": d["title"],
                 "published_at": _iso(d.get("published_at"))} for d in cursor]

    # shapes ---------------------------------------------------------------------------------
    def _event_data(self, doc: dict[str, Any]) -> dict[str, Any]:
        category = self.categories.find_one({"_id": doc["category"]}) or {}
        return {
            "article_id": doc["_id"], "slug": doc["slug"], "title": doc["title"],
            "summary": doc.get("summary", ""), "body_text": plain_text(doc["body_html"]),
            "category": {"slug": doc["category"], "name": category.get("name", doc["category"])},
            "published_at": _iso(doc["published_at"]), "revision": doc["revision"],
        }

    def to_public(self, doc: dict[str, Any], *, with_related: bool = False,
                  summary_only: bool = False,
                  categories: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        out = {
            "id": doc["_id"], "slug": doc["slug"], "title": doc["title"],
            "summary": doc.get("summary", ""),
            "category": doc["category"],
            "breadcrumb": self.breadcrumb(doc["category"], categories),
            "credits": doc.get("credits"), "source_unit": doc.get("source_unit"),
            "tags": doc.get("tags", []),
            "status": doc["status"], "revision": doc["revision"],
            "published_at": _iso(doc.get("published_at")),
            "updated_at": _iso(doc.get("updated_at")),
        }
        if not summary_only:
            out["body_html"] = doc["body_html"]
        if with_related:
            out["related"] = self.related(doc)
        return out
