"""The newsroom's store: categories, articles, their workflow and revisions, and view counts.

Workflow (``status``)::

    draft ──publish──▶ published ──unpublish──▶ unpublished ──publish──▶ published
      │  ▲                                         │
      │  └──unpublish (cancels the schedule)──┐    │
      └──schedule──▶ scheduled ──timer/publish─┼──▶ published
    draft / scheduled / unpublished ──delete──▶ deleted   (a published article: 409)

Every change is claimed before it is written: the revision record (who, when, what changed,
and the event to announce it) is INSERTED first under the unique id ``<article>:<revision>``,
then the article is updated. An insert with a unique key is the one write FerretDB 1.24 makes
atomic: its conditional updates are not (concurrent ``update_one({"revision": n})`` calls all
"succeed" and the last one wins — see docs/decisions.md). So exactly one writer gets revision
n+1; the others re-read and retry. The event rides in the revision record (an outbox that only
the claim's winner writes) and is published once the article update is done; a timer
publishes what a crash left behind and drops claims whose article update never happened.
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from portal_common.errors import Conflict, Invalid, NotFound
from portal_common.events import iso_utc, new_event
from portal_common.events import outbox
from portal_common.schemas.news import (ARTICLE_STATUSES, ArticleDraft, ArticlePatch,
                                        CategoryIn, ImportItem)

from news.text import looks_like_id, make_slug, parse_credits, plain_text, safe_slug, sanitize_html

# the contract's list (portal_common.schemas.news), one name per status
DRAFT, SCHEDULED, PUBLISHED, UNPUBLISHED, DELETED = ARTICLE_STATUSES
MAX_SLUG_ATTEMPTS = 50
MAX_COMMIT_ATTEMPTS = 20
RELATED_LIMIT = 5
HIDDEN = {"outbox": 0}
CLAIM_TIMEOUT = timedelta(seconds=30)  # a claim older than this whose update never came is dead
OUTBOX_MIN_AGE = timedelta(seconds=5)  # the sweep leaves fresh events to the inline relay
SLUG_CACHE_S = 0.5  # how old the copy of published slugs may be when a view does not match it
SCHEDULER = "scheduler"  # the actor of publications made by the timer


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return iso_utc(value) if isinstance(value, datetime) else value


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


class _Stale(Exception):
    """The article changed between read and write: read again and retry."""


class ArticleStore:
    def __init__(self, database: Database):
        self.database = database
        self.categories = database["categories"]
        self.articles = database["articles"]
        self.revisions = database["revisions"]
        self.views = database["article_views"]
        self._slug_cache: tuple[frozenset, float] = (frozenset(), float("-inf"))
        self.media_files = database["media.files"]

    def ensure_indexes(self) -> None:
        self.articles.create_index("slug", unique=True)
        self.articles.create_index([("status", ASCENDING), ("category", ASCENDING),
                                    ("published_at", DESCENDING)])
        self.articles.create_index([("status", ASCENDING), ("publish_at", ASCENDING)])
        self.articles.create_index([("status", ASCENDING), ("updated_at", DESCENDING)])
        self.articles.create_index("import_key", unique=True, sparse=True)
        self.revisions.create_index([("article_id", ASCENDING), ("revision", DESCENDING)])
        self.revisions.create_index([("applied", ASCENDING), ("claimed_at", ASCENDING)])
        self.views.create_index([("day", ASCENDING), ("article_id", ASCENDING)])
        self.views.create_index([("article_id", ASCENDING)])

    # categories ---------------------------------------------------------------------------
    def ensure_category(self, category: CategoryIn) -> dict[str, Any]:
        """Create or change a category. Its parent must exist and may not be itself or one of
        its descendants (the tree stays a tree)."""
        if category.parent:
            tree = self._category_tree()
            if category.parent not in tree:
                raise Invalid("unknown parent category",
                              [{"field": "parent", "message": f"no category '{category.parent}'"}])
            ancestor, seen = category.parent, set()
            while ancestor and ancestor not in seen:
                if ancestor == category.slug:
                    raise Invalid("a category cannot sit under itself",
                                  [{"field": "parent", "message": "would make a cycle"}])
                seen.add(ancestor)
                ancestor = tree.get(ancestor, {}).get("parent")
        doc = self.categories.find_one_and_update(
            {"_id": category.slug},
            {"$set": {"name": category.name, "parent": category.parent, "order": category.order}},
            upsert=True, return_document=ReturnDocument.AFTER)
        return self._category_out(doc, self._category_tree())

    def delete_category(self, slug: str) -> None:
        if not self.categories.find_one({"_id": slug}):
            raise NotFound(f"no category '{slug}'")
        if self.categories.find_one({"parent": slug}):
            raise Conflict(f"category '{slug}' has sub-categories; move or delete them first")
        if self.articles.find_one({"category": slug, "status": {"$ne": DELETED}}, {"_id": 1}):
            raise Conflict(f"category '{slug}' still holds articles; move them first")
        self.categories.delete_one({"_id": slug})

    def list_categories(self) -> list[dict[str, Any]]:
        """Every category in tree order: parents before their children, siblings by ``order``."""
        tree = self._category_tree()
        children: dict[str | None, list[dict]] = {}
        for doc in tree.values():
            parent = doc.get("parent") if doc.get("parent") in tree else None
            children.setdefault(parent, []).append(doc)
        out: list[dict[str, Any]] = []

        def walk(parent: str | None, seen: set) -> None:
            for doc in sorted(children.get(parent, []), key=lambda d: (d.get("order", 0), d["_id"])):
                if doc["_id"] in seen:
                    continue
                seen.add(doc["_id"])
                out.append(self._category_out(doc, tree))
                walk(doc["_id"], seen)

        walk(None, set())
        return out

    def _category_tree(self) -> dict[str, dict[str, Any]]:
        """Every category by slug: the tree is small, and one read beats one read per level."""
        return {c["_id"]: c for c in self.categories.find({}, {"name": 1, "parent": 1, "order": 1})}

    def _descendants(self, slug: str, tree: dict[str, dict[str, Any]]) -> list[str]:
        found, frontier = [slug], [slug]
        while frontier:
            frontier = [s for s, c in tree.items() if c.get("parent") in frontier and s not in found]
            found.extend(frontier)
        return found

    def breadcrumb(self, slug: str, tree: dict[str, dict[str, Any]] | None = None
                   ) -> list[dict[str, str]]:
        """The category and its ancestors, outermost first ("Tin tức - Sự kiện" › "Ban Tuyên giáo")."""
        tree = self._category_tree() if tree is None else tree
        trail, seen = [], set()
        while slug and slug not in seen and slug in tree:
            seen.add(slug)
            trail.append({"slug": slug, "name": tree[slug]["name"]})
            slug = tree[slug].get("parent")
        return list(reversed(trail))

    def _category_out(self, doc: dict[str, Any], tree: dict[str, dict[str, Any]]) -> dict[str, Any]:
        return {"slug": doc["_id"], "name": doc["name"], "parent": doc.get("parent"),
                "order": doc.get("order", 0),
                "depth": max(len(self.breadcrumb(doc["_id"], tree)) - 1, 0)}

    def _require_category(self, slug: str) -> None:
        if not self.categories.find_one({"_id": slug}, {"_id": 1}):
            raise Invalid("unknown category",
                          [{"field": "category", "message": f"no category '{slug}'"}])

    def _require_media(self, cover: dict | None, field: str = "cover.media_id") -> None:
        if cover and not self.media_files.find_one(
                {"_id": cover["media_id"], "metadata.kind": "image"}, {"_id": 1}):
            raise Invalid("unknown image",
                          [{"field": field, "message": f"no uploaded image '{cover['media_id']}'"}])

    # creating ---------------------------------------------------------------------------------
    def create(self, draft: ArticleDraft, actor: str, *, import_key: str | None = None
               ) -> dict[str, Any]:
        self._require_category(draft.category)
        self._require_media(draft.cover.model_dump() if draft.cover else None)
        now = _now()
        article_id = uuid.uuid4().hex
        content = self._content(draft.model_dump(exclude={"slug"}))
        doc = {
            "_id": article_id, **content,
            "status": DRAFT, "revision": 1, "slug_locked": False,
            "created_at": now, "created_by": actor, "updated_at": now, "updated_by": actor,
            "published_at": None, "publish_at": None,
        }
        if import_key:
            doc["import_key"] = import_key
        changes = [{"field": k, "before": None, "after": _jsonable(v)} for k, v in content.items()]
        record = self._record(article_id, 1, "created", actor, now, changes, None)
        self.revisions.insert_one(record)  # a fresh id: nobody else can hold this claim
        base = safe_slug(draft.slug) if draft.slug else make_slug(draft.title)
        try:
            for candidate in self._slug_candidates(base):
                doc["slug"] = candidate
                try:
                    self.articles.insert_one(doc)
                    break
                except DuplicateKeyError:
                    # FerretDB's message does not name the index: ask which key clashed
                    if import_key and self.articles.find_one({"import_key": import_key}, {"_id": 1}):
                        raise Conflict(f"'{import_key}' was imported already") from None
            else:
                raise Conflict(f"no free slug for '{base}'")
        except BaseException:
            self.revisions.delete_one({"_id": record["_id"]})
            raise
        changes.append({"field": "slug", "before": None, "after": doc["slug"]})
        self.revisions.update_one({"_id": record["_id"]},
                                  {"$set": {"applied": True, "changes": changes}})
        return self.to_staff(doc)

    @staticmethod
    def _slug_candidates(base: str):
        yield base
        for n in range(2, MAX_SLUG_ATTEMPTS + 1):
            suffix = f"-{n}"
            yield base[:120 - len(suffix)].rstrip("-") + suffix

    @staticmethod
    def _content(fields: dict[str, Any]) -> dict[str, Any]:
        out = dict(fields)
        if out.get("body_html") is not None:
            out["body_html"] = sanitize_html(out["body_html"])
        return out

    # reading ----------------------------------------------------------------------------------
    def _find(self, ref: str, projection: dict | None = None) -> dict[str, Any]:
        """An article by id or by slug (an id is 32 hex digits; no slug looks like that)."""
        query = {"_id": ref} if looks_like_id(ref) else {"slug": ref}
        doc = self.articles.find_one(query, projection)
        if doc is None:
            raise NotFound(f"no article '{ref}'")
        return doc

    def get(self, ref: str) -> dict[str, Any]:
        doc = self._find(ref, HIDDEN)
        return {**self.to_staff(doc), "views": self.views.count_documents({"article_id": doc["_id"]})}

    def get_published(self, slug: str) -> dict[str, Any]:
        query = {"_id": slug} if looks_like_id(slug) else {"slug": slug}
        doc = self.articles.find_one({**query, "status": PUBLISHED}, HIDDEN)
        if doc is None:
            raise NotFound(f"no published article '{slug}'")
        tree = self._category_tree()
        out = self.to_public(doc, tree=tree)
        out["related"] = self.related(doc)
        return out

    def list_published(self, category: str | None, page: int, per_page: int,
                       tag: str | None = None) -> dict[str, Any]:
        """Published articles newest first; a category includes its sub-categories."""
        tree = self._category_tree()
        query: dict[str, Any] = {"status": PUBLISHED}
        if category:
            if category not in tree:
                raise Invalid("unknown category",
                              [{"field": "category", "message": f"no category '{category}'"}])
            query["category"] = {"$in": self._descendants(category, tree)}
        if tag:
            query["tags"] = tag
        total = self.articles.count_documents(query)
        cursor = (self.articles.find(query, {"body_html": 0, **HIDDEN})
                  .sort([("published_at", DESCENDING), ("_id", DESCENDING)])
                  .skip((page - 1) * per_page).limit(per_page))
        return {"items": [self.to_public(d, tree=tree, summary_only=True) for d in cursor],
                "page": page, "per_page": per_page, "total": total}

    def list_for_staff(self, status: str | None, category: str | None, page: int,
                       per_page: int) -> dict[str, Any]:
        """Every article (drafts, scheduled, …) most recently changed first."""
        query: dict[str, Any] = {"status": status} if status else {"status": {"$ne": DELETED}}
        if category:
            query["category"] = category
        total = self.articles.count_documents(query)
        cursor = (self.articles.find(query, {"body_html": 0, **HIDDEN})
                  .sort([("updated_at", DESCENDING), ("_id", DESCENDING)])
                  .skip((page - 1) * per_page).limit(per_page))
        tree = self._category_tree()
        return {"items": [self.to_staff(d, tree=tree, summary_only=True) for d in cursor],
                "page": page, "per_page": per_page, "total": total}

    def related(self, doc: dict[str, Any], limit: int = RELATED_LIMIT) -> list[dict[str, Any]]:
        """"Các tin khác": the published articles of the same category nearest in time to this
        one (before and after it), nearest first; never itself, never an unpublished one."""
        base = {"status": PUBLISHED, "category": doc["category"], "_id": {"$ne": doc["_id"]}}
        when = doc.get("published_at") or _now()
        fields = {"title": 1, "slug": 1, "published_at": 1, "cover": 1}
        older = list(self.articles.find({**base, "published_at": {"$lte": when}}, fields)
                     .sort([("published_at", DESCENDING)]).limit(limit))
        newer = list(self.articles.find({**base, "published_at": {"$gt": when}}, fields)
                     .sort([("published_at", ASCENDING)]).limit(limit))
        nearest = sorted(older + newer, key=lambda d: abs((d["published_at"] - when).total_seconds()))
        return [{"id": d["_id"], "slug": d["slug"], "title": d["title"],
                 "published_at": _iso(d.get("published_at")), "cover": d.get("cover")}
                for d in nearest[:limit]]

    # the workflow -----------------------------------------------------------------------------
    def update(self, ref: str, patch: ArticlePatch, actor: str) -> tuple[dict[str, Any], str | None]:
        """Change an article's content; a published one announces ``article_updated``.
        Its slug is stable once it has been published (409 if a change is asked)."""
        wanted = self._content(patch.changes())
        if "category" in wanted:
            self._require_category(wanted["category"])
        if "cover" in wanted:
            self._require_media(wanted["cover"])

        def change(doc):
            if doc["status"] == DELETED:
                raise Conflict("the article was deleted")
            if patch.expected_revision is not None and patch.expected_revision != doc["revision"]:
                raise Conflict(f"the article is at revision {doc['revision']}, not "
                               f"{patch.expected_revision}: reload it and apply your change again")
            values = {k: v for k, v in wanted.items() if doc.get(k) != v}
            if "slug" in values:
                if doc.get("slug_locked"):
                    raise Conflict("the slug of an article that has been published never "
                                   "changes (links to it must keep working)")
                values["slug"] = safe_slug(values["slug"])
                values["slug_explicit"] = True
            elif "title" in values and not doc.get("slug_locked") and not doc.get("slug_explicit"):
                values["slug"] = make_slug(values["title"])  # a draft's slug follows its title
            event = "article_updated" if doc["status"] == PUBLISHED else None
            return values, event, "updated"

        return self._commit(ref, actor, change)

    def publish(self, ref: str, actor: str, *, published_at: datetime | None = None
                ) -> tuple[dict[str, Any], str | None]:
        """Publish now; returns (article, revision record or None if nothing changed).
        Publishing twice changes nothing."""
        def change(doc):
            if doc["status"] == PUBLISHED:
                return None
            if doc["status"] == DELETED:
                raise Conflict("the article was deleted")
            now = _now()
            values = {"status": PUBLISHED, "publish_at": None, "slug_locked": True,
                      "published_at": published_at or doc.get("first_published_at") or now}
            if not doc.get("first_published_at"):
                values["first_published_at"] = values["published_at"]
            return values, "article_published", "published"

        return self._commit(ref, actor, change)

    def schedule(self, ref: str, publish_at: datetime, actor: str) -> tuple[dict[str, Any], str | None]:
        if publish_at <= _now():
            raise Invalid("the time to publish has passed",
                          [{"field": "publish_at", "message": "must be in the future"}])

        def change(doc):
            if doc["status"] == PUBLISHED:
                raise Conflict("the article is already published; unpublish it first")
            if doc["status"] == DELETED:
                raise Conflict("the article was deleted")
            return {"status": SCHEDULED, "publish_at": publish_at,
                    "scheduled_by": actor}, None, "scheduled"

        return self._commit(ref, actor, change)

    def unpublish(self, ref: str, actor: str) -> tuple[dict[str, Any], str | None]:
        """Withdraw a published article (``article_unpublished``), or cancel a schedule."""
        def change(doc):
            if doc["status"] == PUBLISHED:
                return ({"status": UNPUBLISHED, "unpublished_at": _now()},
                        "article_unpublished", "unpublished")
            if doc["status"] == SCHEDULED:
                return {"status": DRAFT, "publish_at": None}, None, "unscheduled"
            return None

        return self._commit(ref, actor, change)

    def delete(self, ref: str, actor: str) -> tuple[dict[str, Any], str | None]:
        """Delete a draft, scheduled or unpublished article. It is kept (status ``deleted``)
        with its revisions, and its slug stays reserved; a published one must be unpublished
        first (409), so no live page disappears by a single click."""
        def change(doc):
            if doc["status"] == DELETED:
                return None
            if doc["status"] == PUBLISHED:
                raise Conflict("a published article cannot be deleted; unpublish it first")
            return {"status": DELETED, "deleted_at": _now(), "publish_at": None}, None, "deleted"

        return self._commit(ref, actor, change)

    def due_for_publication(self, limit: int = 50) -> list[str]:
        return [d["_id"] for d in self.articles.find(
            {"status": SCHEDULED, "publish_at": {"$lte": _now()}}, {"_id": 1}).limit(limit)]

    def publish_scheduled(self, article_id: str) -> tuple[dict[str, Any] | None, str | None]:
        """Publish a scheduled article whose time has come. Several service instances may race
        for it: the conditional update lets exactly one of them publish it."""
        def change(doc):
            if doc["status"] != SCHEDULED or doc.get("publish_at") is None or doc["publish_at"] > _now():
                return None
            now = _now()
            values = {"status": PUBLISHED, "publish_at": None, "slug_locked": True,
                      "published_at": doc.get("first_published_at") or now}
            if not doc.get("first_published_at"):
                values["first_published_at"] = values["published_at"]
            return values, "article_published", "published"

        try:
            return self._commit(article_id, SCHEDULER, change)
        except NotFound:
            return None, None

    def _commit(self, ref: str, actor: str, change: Callable
                ) -> tuple[dict[str, Any], str | None]:
        """Apply ``change(doc) -> (values, event_type | None, action) | None`` to the article.

        Returns (article, id of the revision record holding the event, or None when nothing
        changed). Concurrent writers of one article are serialised by the revision claim."""
        for attempt in range(MAX_COMMIT_ATTEMPTS):
            doc = self._find(ref, HIDDEN)
            decided = change(doc)
            if decided is None or not decided[0]:
                return self.to_staff(doc), None
            values, event_type, action = decided
            try:
                updated, record_id = self._write(doc, values, event_type, action, actor)
            except _Stale:
                time.sleep(min(0.01 * (attempt + 1), 0.1))  # the winner is writing
                continue
            return self.to_staff(updated), record_id
        raise Conflict("the article is being changed by someone else; try again")

    def _write(self, doc, values, event_type, action, actor) -> tuple[dict[str, Any], str]:
        now = _now()
        revision = doc["revision"] + 1
        audit = {k: v for k, v in values.items() if k not in ("slug_explicit", "scheduled_by")}
        changes = [{"field": k, "before": _jsonable(doc.get(k)), "after": _jsonable(v)}
                   for k, v in audit.items() if doc.get(k) != v]
        updated = {**doc, **values, "revision": revision, "updated_at": now, "updated_by": actor}
        new_slug = "slug" in values and values["slug"] != doc["slug"]
        for slug in (self._slug_candidates(values["slug"]) if new_slug else [None]):
            if slug is not None:
                updated["slug"] = slug
                for c in changes:
                    if c["field"] == "slug":
                        c["after"] = slug
            record = self._record(doc["_id"], revision, action, actor, now, changes,
                                  self._event(updated, event_type) if event_type else None)
            try:
                self.revisions.insert_one(record)  # the claim: one writer per revision
            except DuplicateKeyError:
                self._drop_dead_claim(f"{doc['_id']}:{revision:07d}")
                raise _Stale() from None
            try:
                result = self.articles.update_one(
                    {"_id": doc["_id"], "revision": doc["revision"]},
                    {"$set": {**values, "slug": updated["slug"], "revision": revision,
                              "updated_at": now, "updated_by": actor}})
            except DuplicateKeyError:
                self.revisions.delete_one({"_id": record["_id"]})
                continue  # the slug is taken: the next candidate
            except BaseException:
                self.revisions.delete_one({"_id": record["_id"]})
                raise
            if result.matched_count != 1:
                self.revisions.delete_one({"_id": record["_id"]})
                raise _Stale()
            self.revisions.update_one({"_id": record["_id"]}, {"$set": {"applied": True}})
            return updated, record["_id"]
        raise Conflict(f"no free slug for '{values['slug']}'")

    def _drop_dead_claim(self, record_id: str) -> None:
        """Remove a claim whose writer died between claiming and updating the article."""
        record = self.revisions.find_one({"_id": record_id})
        if not record or record.get("applied"):
            return
        article = self.articles.find_one({"_id": record["article_id"]}, {"revision": 1})
        if article and article["revision"] >= record["revision"]:
            self.revisions.update_one({"_id": record_id}, {"$set": {"applied": True}})
        elif record["claimed_at"] < _now() - CLAIM_TIMEOUT:
            self.revisions.delete_one({"_id": record_id, "applied": False})

    # revisions ----------------------------------------------------------------------------------
    @staticmethod
    def _record(article_id, revision, action, actor, at, changes, event) -> dict[str, Any]:
        return {"_id": f"{article_id}:{revision:07d}", "article_id": article_id,
                "revision": revision, "action": action, "by": actor, "at": iso_utc(at),
                "changes": changes, "outbox": [event] if event else [],
                "applied": False, "claimed_at": at}

    def sweep(self, publish, limit: int = 200) -> int:
        """Finish what a crash interrupted: settle claims left unapplied, then publish the
        events of applied revisions that are still waiting. Returns how many were published."""
        for record in self.revisions.find(
                {"applied": False, "claimed_at": {"$lt": _now() - CLAIM_TIMEOUT}},
                {"_id": 1}).limit(limit):
            self._drop_dead_claim(record["_id"])
        cutoff = iso_utc(_now() - OUTBOX_MIN_AGE)
        sent = 0
        for record in self.revisions.find({"applied": True, "outbox.event_id": {"$exists": True}},
                                          {"outbox": 1}).limit(limit):
            if all(e.get("occurred_at", "") <= cutoff for e in record["outbox"]):
                sent += outbox.relay(self.revisions, record["_id"], publish)
        return sent

    def list_revisions(self, ref: str, page: int, per_page: int) -> dict[str, Any]:
        doc = self._find(ref, {"revision": 1})
        query = {"article_id": doc["_id"], "applied": True}
        total = self.revisions.count_documents(query)
        items = (self.revisions.find(query, {"_id": 0, "outbox": 0, "applied": 0,
                                             "claimed_at": 0})
                 .sort([("revision", DESCENDING)]).skip((page - 1) * per_page).limit(per_page))
        return {"items": list(items), "page": page, "per_page": per_page, "total": total}

    # importing -------------------------------------------------------------------------------------
    def import_item(self, item: ImportItem, actor: str
                    ) -> tuple[str, dict[str, Any], list[str]]:
        """Create or update the article ``item.source_id`` stands for; returns (outcome,
        article, revision records to relay) where outcome is ``created``, ``updated`` or
        ``unchanged``. Running the same import twice changes nothing the second time."""
        key = f"import:{item.source_id}"
        existing = self.articles.find_one({"import_key": key}, HIDDEN)
        draft = ArticleDraft.model_validate(item.model_dump(
            exclude={"source_id", "published_at", "publish"}))
        records: list[str] = []
        outcome = "unchanged"
        if existing is None:
            try:
                article = self.create(draft, actor, import_key=key)
                outcome = "created"
            except Conflict:
                existing = self.articles.find_one({"import_key": key}, HIDDEN)
                if existing is None:
                    raise
        if existing is not None:
            article = self.to_staff(existing)
            fields = self._content(draft.model_dump(exclude={"slug"}))
            if draft.slug and not existing.get("slug_locked"):
                fields["slug"] = draft.slug
            changes = {k: v for k, v in fields.items() if existing.get(k) != v}
            if changes:
                article, record = self.update(existing["_id"], ArticlePatch(**changes), actor)
                if record:
                    records.append(record)
                    outcome = "updated"
        if item.publish and article["status"] != PUBLISHED:
            article, record = self.publish(article["id"], actor, published_at=item.published_at)
            if record:
                records.append(record)
                outcome = "updated" if outcome == "unchanged" else outcome
        return outcome, article, records

    # views (the most-read list) ------------------------------------------------------------------
    def count_view(self, slug: str, viewed_at: datetime, event_id: str) -> bool:
        """Count one view of the published article ``slug``; False if there is none.

        One record per view, keyed by the event's id: a redelivered event, even one handled
        twice at the same moment, is counted once (the insert of the second one fails)."""
        if not self._may_be_published(slug):
            return False  # most viewed pages are not articles: no query for them
        doc = self.articles.find_one({"slug": slug, "status": PUBLISHED}, {"_id": 1})
        if doc is None:
            return False
        try:
            self.views.insert_one({"_id": event_id, "article_id": doc["_id"],
                                   "day": viewed_at.astimezone(timezone.utc).strftime("%Y-%m-%d")})
        except DuplicateKeyError:
            pass
        return True

    def _may_be_published(self, slug: str) -> bool:
        """Whether ``slug`` is in a recent copy of the published slugs. Page views arrive by the
        thousand and most are not articles: they cost no query. A slug missing from a copy
        older than half a second re-reads it, so an article is counted from its first views."""
        slugs, read_at = self._slug_cache
        if slug in slugs:
            return True
        if time.monotonic() - read_at > SLUG_CACHE_S:
            slugs = frozenset(d["slug"] for d in self.articles.find({"status": PUBLISHED},
                                                                     {"slug": 1, "_id": 0}))
            self._slug_cache = (slugs, time.monotonic())
        return slug in slugs

    def most_read(self, days: int, limit: int, category: str | None = None) -> dict[str, Any]:
        since = (_now() - timedelta(days=days - 1)).strftime("%Y-%m-%d")
        ranked = list(self.views.aggregate([
            {"$match": {"day": {"$gte": since}}},
            {"$group": {"_id": "$article_id", "views": {"$sum": 1}}},
            {"$sort": {"views": -1, "_id": 1}},
            {"$limit": limit * 4},
        ]))
        tree = self._category_tree()
        query: dict[str, Any] = {"_id": {"$in": [r["_id"] for r in ranked]}, "status": PUBLISHED}
        if category:
            if category not in tree:
                raise Invalid("unknown category",
                              [{"field": "category", "message": f"no category '{category}'"}])
            query["category"] = {"$in": self._descendants(category, tree)}
        docs = {d["_id"]: d for d in self.articles.find(query, {"body_html": 0, **HIDDEN})}
        items = []
        for row in ranked:
            if row["_id"] in docs:
                items.append({**self.to_public(docs[row["_id"]], tree=tree, summary_only=True),
                              "views": row["views"]})
            if len(items) == limit:
                break
        return {"items": items, "days": days}

    # shapes ----------------------------------------------------------------------------------------
    def _event(self, doc: dict[str, Any], event_type: str) -> dict[str, Any]:
        data = self._event_data(doc, event_type)
        if event_type == "article_published":
            return new_event("news", "article_published", data)
        if event_type == "article_updated":
            return new_event("news", "article_updated", data)
        if event_type == "article_unpublished":
            return new_event("news", "article_unpublished", data)
        raise ValueError(f"no news event {event_type}")

    def _event_data(self, doc: dict[str, Any], event_type: str) -> dict[str, Any]:
        if event_type == "article_unpublished":
            return {"article_id": doc["_id"], "slug": doc["slug"], "revision": doc["revision"],
                    "unpublished_at": iso_utc(doc.get("unpublished_at") or _now())}
        category = self.categories.find_one({"_id": doc["category"]}) or {}
        return {
            "article_id": doc["_id"], "slug": doc["slug"], "title": doc["title"],
            "summary": doc.get("summary", ""), "body_text": plain_text(doc["body_html"]),
            "category": {"slug": doc["category"], "name": category.get("name", doc["category"])},
            "published_at": _iso(doc["published_at"]), "revision": doc["revision"],
        }

    def to_public(self, doc: dict[str, Any], *, tree: dict | None = None,
                  summary_only: bool = False) -> dict[str, Any]:
        out = {
            "id": doc["_id"], "slug": doc["slug"], "title": doc["title"],
            "summary": doc.get("summary", ""),
            "category": doc["category"],
            "breadcrumb": self.breadcrumb(doc["category"], tree),
            "credits": doc.get("credits"), "byline": parse_credits(doc.get("credits")),
            "source_unit": doc.get("source_unit"),
            "tags": doc.get("tags", []), "cover": doc.get("cover"),
            "status": doc["status"], "revision": doc["revision"],
            "published_at": _iso(doc.get("published_at")),
            "updated_at": _iso(doc.get("updated_at")),
        }
        if not summary_only:
            out["body_html"] = doc["body_html"]
        return out

    def to_staff(self, doc: dict[str, Any], *, tree: dict | None = None,
                 summary_only: bool = False) -> dict[str, Any]:
        out = self.to_public(doc, tree=tree, summary_only=summary_only)
        out.update({
            "publish_at": _iso(doc.get("publish_at")),
            "created_at": _iso(doc.get("created_at")), "created_by": doc.get("created_by"),
            "updated_by": doc.get("updated_by"), "slug_locked": bool(doc.get("slug_locked")),
        })
        return out
