"""NewsService: the newsroom's RPC entrypoints. Thin: validate, call the store, relay events."""
from __future__ import annotations

from nameko.timer import timer
from portal_common.entrypoints import rpc
from portal_common.errors import validated
from portal_common.events import outbox
from portal_common.events.publisher import EventPublisher
from portal_common.mongo import MongoStore
from portal_common.observability import Instrumentation, OpsEndpoints, check

from news.dependencies import ArticleStore
from portal_common.schemas.news import ArticleDraft, CategoryIn, Page



class NewsService(OpsEndpoints):
    name = "news"

    articles = MongoStore(ArticleStore)
    publish_event = EventPublisher()
    instrumentation = Instrumentation()

    def readiness_checks(self):
        return [check("mongodb", lambda: self.articles.articles.database.command("ping"))]

    @rpc
    def list_categories(self):
        """All categories, ordered; each ``{slug, name, parent, order}``."""
        return self.articles.list_categories()

    @rpc
    def ensure_category(self, payload):
        """Create or rename a category: ``{"slug": "ban-tuyen-giao", "name": "Ban Tuyên giáo",
        "parent": "tin-tuc-su-kien", "order": 1}``. Raises Invalid."""
        return self.articles.ensure_category(validated(CategoryIn, payload))

    @rpc
    def create_article(self, payload, actor):
        """Create a draft from ``ArticleDraft`` fields; returns the article. Raises Invalid."""
        return self.articles.create(validated(ArticleDraft, payload), actor)

    @rpc
    def publish_article(self, article_id, actor):
        """Publish a draft and announce ``article_published``. Raises NotFound, Conflict."""
        article, changed = self.articles.publish(article_id, actor)
        if changed:
            outbox.relay(self.articles.articles, article_id, self.publish_event)
        return article

    @rpc
    def get_article(self, slug):
        """A published article by slug, with its breadcrumb and ``related``. Raises NotFound."""
        return self.articles.get_published(slug)

    @rpc
    def get_article_by_id(self, article_id):
        """Any article (drafts too), for staff. Raises NotFound."""
        return self.articles.get(article_id)

    @rpc
    def list_articles(self, category=None, page=1, per_page=20):
        """Published articles, newest first: ``{items, page, per_page, total}``."""
        paging = validated(Page, {"page": page, "per_page": per_page})
        return self.articles.list_published(category, paging.page, paging.per_page)

    @timer(interval=5)
    def relay_outbox(self):
        """Publish events a crash or a broker outage left in an article's outbox."""
        outbox.sweep(self.articles.articles, self.publish_event)
