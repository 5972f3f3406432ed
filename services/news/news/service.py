"""NewsService: the newsroom's RPC entrypoints. Thin: validate, call a store, relay events.

``actor`` arguments are the username the gateway took from the caller's token; the gateway
decides who may call what (editors and admins write), the service records who did it.
"""
from __future__ import annotations

import os
import re
from datetime import datetime, timezone

from nameko.timer import timer
from portal_common.entrypoints import rpc
from portal_common.errors import Invalid, validated
from portal_common.events import outbox
from portal_common.events.consumer import event_handler
from portal_common.events.publisher import EventPublisher
from portal_common.mongo import MongoStore
from portal_common.observability import Instrumentation, OpsEndpoints, check
from portal_common.schemas import SLUG_PATTERN, Page
from portal_common.schemas.news import (AlbumIn, AlbumPatch, ArticleDraft, ArticlePatch,
                                        CategoryIn, ImportItem, MediaQuery, MostReadQuery,
                                        NewsletterIn, NewsletterPatch, NewsListQuery,
                                        ScheduleIn, StaffNewsQuery)

from news.library import Library
from news.media import MediaStore, decode_upload
from news.store import ArticleStore

# how often each instance looks for scheduled articles whose time has come
SCHEDULE_INTERVAL_S = float(os.environ.get("NEWS_SCHEDULE_INTERVAL_S", "2"))
_SLUG = re.compile(SLUG_PATTERN)


def slug_of_path(path: str) -> str | None:
    """The article slug a viewed page's path ends with (``/tin-tuc/ban-tuyen-giao/<slug>``,
    ``/news/<slug>.html``), or None when the last segment cannot be a slug."""
    last = path.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    last = re.sub(r"\.html?$", "", last.lower())
    return last if last and len(last) <= 120 and _SLUG.match(last) else None


class NewsService(OpsEndpoints):
    name = "news"

    articles = MongoStore(ArticleStore)
    media = MongoStore(MediaStore)
    library = MongoStore(Library)
    publish_event = EventPublisher()
    instrumentation = Instrumentation()

    def readiness_checks(self):
        return [check("mongodb", lambda: self.articles.articles.database.command("ping"))]

    def _announce(self, article, record_id):
        """Publish the event the write staged with its revision record (the sweep retries)."""
        if record_id:
            outbox.relay(self.articles.revisions, record_id, self.publish_event)
        return article

    # categories ----------------------------------------------------------------------------------
    @rpc
    def list_categories(self):
        """All categories in tree order; each ``{slug, name, parent, order, depth}``."""
        return self.articles.list_categories()

    @rpc
    def ensure_category(self, payload):
        """Create or change a category: ``{"slug": "ban-tuyen-giao", "name": "Ban Tuyên giáo",
        "parent": "tin-tuc-su-kien", "order": 1}``. Raises Invalid (unknown parent, cycle)."""
        return self.articles.ensure_category(validated(CategoryIn, payload))

    @rpc
    def delete_category(self, slug):
        """Delete an empty category. Raises NotFound, Conflict (it has articles or children)."""
        self.articles.delete_category(slug)

    # articles: writing ------------------------------------------------------------------------------
    @rpc
    def create_article(self, payload, actor):
        """Create a draft from ``ArticleDraft`` fields; returns the article. Raises Invalid."""
        return self.articles.create(validated(ArticleDraft, payload), actor)

    @rpc
    def update_article(self, ref, payload, actor):
        """Change an article (id or slug) with ``ArticlePatch`` fields; a published article
        announces ``article_updated``. Raises NotFound, Invalid, Conflict."""
        return self._announce(*self.articles.update(ref, validated(ArticlePatch, payload), actor))

    @rpc
    def publish_article(self, article_id, actor):
        """Publish now and announce ``article_published``; publishing twice is harmless.
        Raises NotFound, Conflict (deleted)."""
        return self._announce(*self.articles.publish(article_id, actor))

    @rpc
    def schedule_article(self, ref, payload, actor):
        """Publish at ``{"publish_at": "2026-12-01T07:00:00+07:00"}`` (future, with a zone).
        Raises NotFound, Invalid, Conflict (already published, deleted)."""
        when = validated(ScheduleIn, payload).publish_at
        return self._announce(*self.articles.schedule(ref, when.astimezone(timezone.utc), actor))

    @rpc
    def unpublish_article(self, ref, actor):
        """Withdraw a published article (``article_unpublished``) or cancel its schedule."""
        return self._announce(*self.articles.unpublish(ref, actor))

    @rpc
    def delete_article(self, ref, actor):
        """Delete a draft, scheduled or unpublished article (kept with its revisions, hidden).
        Raises NotFound, Conflict (published: unpublish first)."""
        return self._announce(*self.articles.delete(ref, actor))

    @rpc
    def import_article(self, payload, actor):
        """Create or update the article of an import item (``ImportItem``), keyed by its
        ``source_id``; returns ``{"outcome": "created"|"updated"|"unchanged", "article"}``."""
        outcome, article, records = self.articles.import_item(validated(ImportItem, payload), actor)
        for record_id in records:
            self._announce(article, record_id)
        return {"outcome": outcome, "article": article}

    # articles: reading -------------------------------------------------------------------------------
    @rpc
    def get_article(self, slug):
        """A published article by slug, with its breadcrumb and ``related``. Raises NotFound."""
        return self.articles.get_published(slug)

    @rpc
    def get_article_by_id(self, article_id):
        """Any article (drafts too) by id or slug, for staff. Raises NotFound."""
        return self.articles.get(article_id)

    @rpc
    def list_articles(self, category=None, page=1, per_page=20, tag=None):
        """Published articles, newest first: ``{items, page, per_page, total}``; a category
        includes its sub-categories. Raises Invalid (unknown category)."""
        query = validated(NewsListQuery, {"category": category, "page": page,
                                            "per_page": per_page, "tag": tag})
        return self.articles.list_published(query.category, query.page, query.per_page,
                                            tag=query.tag)

    @rpc
    def list_articles_for_staff(self, status=None, category=None, page=1, per_page=20):
        """Every article not deleted (or those of one ``status``), last changed first."""
        query = validated(StaffNewsQuery, {"status": status, "category": category,
                                           "page": page, "per_page": per_page})
        return self.articles.list_for_staff(query.status, query.category, query.page,
                                            query.per_page)

    @rpc
    def list_revisions(self, ref, page=1, per_page=50):
        """Every change of an article, newest first: ``{revision, action, by, at, changes:
        [{field, before, after}]}``. Raises NotFound."""
        paging = validated(Page, {"page": page, "per_page": per_page})
        return self.articles.list_revisions(ref, paging.page, paging.per_page)

    @rpc
    def most_read(self, days=30, limit=10, category=None):
        """The published articles most viewed over the last ``days`` (from page_viewed)."""
        query = validated(MostReadQuery, {"days": days, "limit": limit, "category": category})
        return self.articles.most_read(query.days, query.limit, query.category)

    # media -------------------------------------------------------------------------------------------
    @rpc
    def store_media(self, data_b64, filename, actor, caption=None, credit=None):
        """Keep an uploaded image (JPEG/PNG/WebP, thumbnails made) or PDF; returns
        ``{"media", "created"}``. Raises UnsupportedMedia (415), TooLarge (413), Invalid."""
        if caption is not None and len(str(caption)) > 500:
            raise Invalid("caption too long", [{"field": "caption", "message": "at most 500"}])
        if credit is not None and len(str(credit)) > 200:
            raise Invalid("credit too long", [{"field": "credit", "message": "at most 200"}])
        media, created = self.media.store(decode_upload(data_b64), filename, actor,
                                          caption=caption, credit=credit)
        return {"media": media, "created": created}

    @rpc
    def get_media(self, media_id, variant="original"):
        """``{content_type, data (base64), length}`` of a media or one of its sizes."""
        return self.media.read(media_id, variant)

    @rpc
    def describe_media(self, media_id):
        return self.media.describe(media_id)

    @rpc
    def list_media(self, kind=None, page=1, per_page=20):
        query = validated(MediaQuery, {"kind": kind, "page": page, "per_page": per_page})
        return self.media.list(query.kind, query.page, query.per_page)

    # albums and newsletters ----------------------------------------------------------------------
    @rpc
    def create_album(self, payload, actor):
        """A photo album from ``AlbumIn``. Raises Invalid (unknown images)."""
        return self.library.create_album(validated(AlbumIn, payload), actor)

    @rpc
    def update_album(self, ref, payload, actor):
        return self.library.update_album(ref, validated(AlbumPatch, payload), actor)

    @rpc
    def delete_album(self, ref):
        self.library.delete_album(ref)

    @rpc
    def get_album(self, ref, staff=False):
        """An album by id or slug; unpublished ones only for staff. Raises NotFound."""
        return self.library.get_album(ref, staff=bool(staff))

    @rpc
    def list_albums(self, page=1, per_page=20, staff=False):
        paging = validated(Page, {"page": page, "per_page": per_page})
        return self.library.list_albums(paging.page, paging.per_page, staff=bool(staff))

    @rpc
    def create_newsletter(self, payload, actor):
        """A newsletter issue from ``NewsletterIn``. Raises Invalid, Conflict (number taken)."""
        return self.library.create_newsletter(validated(NewsletterIn, payload), actor)

    @rpc
    def update_newsletter(self, issue_id, payload, actor):
        return self.library.update_newsletter(issue_id, validated(NewsletterPatch, payload), actor)

    @rpc
    def delete_newsletter(self, issue_id):
        self.library.delete_newsletter(issue_id)

    @rpc
    def get_newsletter(self, issue_id, staff=False):
        return self.library.get_newsletter(issue_id, staff=bool(staff))

    @rpc
    def list_newsletters(self, year=None, page=1, per_page=20, staff=False):
        paging = validated(Page, {"page": page, "per_page": per_page})
        if year is not None and (not isinstance(year, int) or not 1900 <= year <= 2100):
            raise Invalid("invalid year", [{"field": "year", "message": "1900 to 2100"}])
        return self.library.list_newsletters(year, paging.page, paging.per_page,
                                             staff=bool(staff))

    # background ------------------------------------------------------------------------------------
    @timer(interval=SCHEDULE_INTERVAL_S)
    def publish_due(self):
        """Publish scheduled articles whose time has come. Every instance runs this; the
        conditional update in ``publish_scheduled`` lets exactly one of them publish each."""
        for article_id in self.articles.due_for_publication():
            self._announce(*self.articles.publish_scheduled(article_id))

    @timer(interval=5)
    def relay_outbox(self):
        """Publish events a crash or a broker outage left unpublished; drop dead claims."""
        self.articles.sweep(self.publish_event)

    @event_handler("gateway", "page_viewed")
    def handle_page_viewed(self, event):
        """Count a view of a published article (the most-read list); other pages are ignored.
        The consumer's inbox makes a redelivered event count once."""
        slug = slug_of_path(event["data"]["path"])
        if slug:
            viewed = datetime.fromisoformat(event["data"]["viewed_at"].replace("Z", "+00:00"))
            self.articles.count_view(slug, viewed, event["event_id"])
