"""DocumentsService: the register, its search index, and the index of published articles."""
from __future__ import annotations

import logging

from elasticsearch import ConnectionError as ElasticsearchConnectionError
from elasticsearch import ConnectionTimeout as ElasticsearchTimeout
from nameko.timer import timer
from portal_common.entrypoints import rpc
from portal_common.errors import validated
from portal_common.events import outbox
from portal_common.events.consumer import event_handler
from portal_common.events.publisher import EventPublisher
from portal_common.mongo import MongoStore
from portal_common.observability import Instrumentation, OpsEndpoints, check

from documents.register import DocumentRegister
from portal_common.schemas.documents import DocumentIn, SearchQuery
from documents.search_index import SearchIndexProvider

log = logging.getLogger(__name__)



class DocumentsService(OpsEndpoints):
    name = "documents"

    register = MongoStore(DocumentRegister)
    search_index = SearchIndexProvider()
    publish_event = EventPublisher()
    instrumentation = Instrumentation()

    def readiness_checks(self):
        return [check("mongodb", lambda: self.register.documents.database.command("ping")),
                check("elasticsearch", lambda: self.search_index.client.cluster.health(
                    timeout="1s"))]

    @rpc
    def create_document(self, payload):
        """Add a document to the register and index it; announces ``document_indexed``.
        Raises Invalid, Conflict (number already registered)."""
        doc = self.register.create(validated(DocumentIn, payload))
        try:
            self._index(doc)
        except (ElasticsearchConnectionError, ElasticsearchTimeout):
            # stored is stored: the timer indexes it when Elasticsearch answers again
            log.warning("document %s stored, indexing deferred: search engine unavailable",
                        doc["_id"])
        return self.register.to_public(doc)

    @rpc
    def get_document(self, document_id):
        """One document with its full text. Raises NotFound."""
        return self.register.to_public(self.register.get(document_id))

    @rpc
    def find_document(self, number):
        """A document by its number in any spelling ("100-KL/TW", "100 kl/tw"), or None."""
        doc = self.register.find_by_number(number)
        return self.register.to_public(doc) if doc else None

    @rpc
    def search(self, q, kind=None, page=1, per_page=10):
        """Site-wide search over articles and documents; each hit says its ``kind`` and carries
        ``highlight`` fragments in ``<mark>``. Raises Invalid."""
        query = validated(SearchQuery, {"q": q, "kind": kind, "page": page, "per_page": per_page})
        return self.search_index.search(query.q, kind=query.kind, page=query.page,
                                        per_page=query.per_page)

    @event_handler("news", "article_published")
    def handle_article_published(self, event):
        """Index a published article; an older revision arriving late is ignored."""
        data = event["data"]
        self.search_index.put(f"article-{data['article_id']}", {
            "kind": "article", "ref_id": data["article_id"], "slug": data["slug"],
            "title": data["title"], "summary": data["summary"], "body": data["body_text"],
            "category": data["category"]["slug"], "category_name": data["category"]["name"],
            "date": data["published_at"], "revision": data["revision"],
        }, revision=data["revision"])

    @timer(interval=5)
    def catch_up(self):
        """Index documents a failure left unindexed, and relay pending events."""
        for doc in self.register.not_indexed():
            self._index(doc)
        outbox.sweep(self.register.documents, self.publish_event)

    def _index(self, doc):
        self.search_index.put(f"document-{doc['_id']}", self.register.to_search(doc),
                              revision=doc["revision"])
        self.register.mark_indexed(doc)
        outbox.relay(self.register.documents, doc["_id"], self.publish_event)
