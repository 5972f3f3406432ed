"""DocumentsService: the register, its search index, and the index of published articles."""
from __future__ import annotations

import base64
import logging

from nameko.timer import timer
from portal_common.entrypoints import rpc
from portal_common.errors import BACKEND_UNAVAILABLE, Invalid, validated
from portal_common.events import outbox
from portal_common.events.consumer import event_handler
from portal_common.events.publisher import EventPublisher
from portal_common.mongo import MongoStore
from portal_common.observability import Instrumentation, OpsEndpoints, check
from portal_common.pacing import CatchUpPace
from portal_common.schemas.documents import (DocumentIn, DocumentPatch, DocumentSearchQuery,
                                             SiteSearchQuery, SuggestQuery)

from documents import articles as article_search
from documents.articles import ArticleCopies
from documents.attachments import extract_text
from documents.register import DocumentRegister
from documents.search_index import SearchIndexProvider, engine_available

log = logging.getLogger(__name__)

CATCH_UP_BATCH = 100  # documents indexed per catch-up tick


class DocumentsService(OpsEndpoints):
    name = "documents"

    register = MongoStore(DocumentRegister)
    articles = MongoStore(ArticleCopies)
    search_index = SearchIndexProvider()
    publish_event = EventPublisher()
    instrumentation = Instrumentation()
    catch_up_pace = CatchUpPace()

    def readiness_checks(self):
        return [check("mongodb", lambda: self.register.documents.database.command("ping")),
                check("elasticsearch", lambda: self.search_index.client.cluster.health(
                    timeout="1s"))]

    # -- the register --------------------------------------------------------------------------

    @rpc
    def create_document(self, payload):
        """Add a document to the register and index it; announces ``document_indexed``.

        Payload: ``DocumentIn`` (number, type, issuer, title, …). Stored is stored: when the
        search engine is down the document is indexed by ``catch_up`` once it answers.
        Raises Invalid, Conflict (number already registered)."""
        doc = self.register.create(validated(DocumentIn, payload))
        self._index_now(doc)
        return self.register.to_public(doc, self.register.relations_of(doc))

    @rpc
    def update_document(self, document_id, payload):
        """Change a document (``DocumentPatch``: status, dates, title, relations …); the new
        revision is indexed and announced with ``document_indexed``. Raises NotFound, Invalid."""
        patch = validated(DocumentPatch, payload)
        if not patch.model_fields_set:
            raise Invalid("invalid input", [{"field": "body", "message": "nothing to change"}])
        doc = self.register.update(document_id, patch)
        self._index_now(doc)
        return self.register.to_public(doc, self.register.relations_of(doc))

    @rpc
    def remove_document(self, document_id):
        """Withdraw a document from the register and the index; announces ``document_removed``.
        Raises NotFound."""
        doc = self.register.remove(document_id)
        self._index_now(doc)
        return {"id": document_id, "removed": True}

    @rpc
    def add_attachment(self, document_id, filename, content_type, data_b64):
        """Attach an original PDF or DOCX (base64); its text is extracted and indexed.
        Raises NotFound, Invalid (unreadable file or unsupported type)."""
        data = base64.b64decode(data_b64)
        text = extract_text(data, content_type, filename)
        doc = self.register.add_attachment(document_id, filename=filename,
                                           content_type=content_type, data=data, text=text)
        self._index_now(doc)
        return self.register.to_public(doc, self.register.relations_of(doc))

    @rpc
    def get_attachment(self, document_id, attachment_id):
        """An attachment's original file: ``{filename, content_type, size, data_b64}``.
        Raises NotFound."""
        attachment, data = self.register.attachment(document_id, attachment_id)
        return {"filename": attachment["filename"], "content_type": attachment["content_type"],
                "size": attachment["size"], "data_b64": base64.b64encode(data).decode()}

    @rpc
    def get_document(self, document_id):
        """One document with its full text, attachments and relations both ways. Raises NotFound."""
        doc = self.register.get(document_id)
        return self.register.to_public(doc, self.register.relations_of(doc))

    @rpc
    def find_document(self, number):
        """A document by its number in any spelling ("100-KL/TW", "100 kl/tw"), or None."""
        doc = self.register.find_by_number(number)
        return self.register.to_public(doc) if doc else None

    # -- search --------------------------------------------------------------------------------

    @rpc
    def search_documents(self, params):
        """Document lookup: ``DocumentSearchQuery`` → hits with highlights, total and facets.
        Raises Invalid, Unavailable (search engine down)."""
        query = validated(DocumentSearchQuery, params)
        with engine_available():
            return self.search_index.search_documents(query)

    @rpc
    def suggest(self, params):
        """Titles and numbers for what the user is typing (``SuggestQuery``).
        Raises Invalid, Unavailable."""
        query = validated(SuggestQuery, params)
        with engine_available():
            return {"items": self.search_index.suggest(query.q, query.limit)}

    @rpc
    def search(self, q, kind=None, page=1, per_page=10):
        """Site-wide search over articles and documents; each hit says its ``kind`` and carries
        ``highlight`` fragments in ``<mark>``. Raises Invalid, Unavailable."""
        query = validated(SiteSearchQuery, {"q": q, "kind": kind, "page": page,
                                            "per_page": per_page})
        with engine_available():
            return self.search_index.search_site(query.q, kind=query.kind, page=query.page,
                                                 per_page=query.per_page)

    # -- articles from news.events --------------------------------------------------------------

    @event_handler("news", "article_published")
    def handle_article_published(self, event):
        """Index a published article; an older revision arriving late is ignored."""
        self._keep_article(event["data"])

    @event_handler("news", "article_updated")
    def handle_article_updated(self, event):
        """Re-index an updated article (same payload as ``article_published``)."""
        self._keep_article(event["data"])

    @event_handler("news", "article_unpublished")
    def handle_article_unpublished(self, event):
        """Drop a withdrawn article from search; a tombstone at its revision keeps a late
        ``article_published`` of an older revision from bringing it back."""
        data = event["data"]
        if self.articles.record(data["article_id"], data["revision"], None):
            self.search_index.remove(article_search.index_id(data["article_id"]),
                                     data["revision"])

    def _keep_article(self, data):
        if self.articles.record(data["article_id"], data["revision"], data):
            self.search_index.put(article_search.index_id(data["article_id"]),
                                  article_search.to_search(data), revision=data["revision"])

    # -- indexing the register ------------------------------------------------------------------

    @timer(interval=5)
    def catch_up(self):
        """Index documents a failure left unindexed, and relay pending events: on every tick
        while this process knows such work waits, otherwise at the paced full scan (the
        register is large, and on FerretDB each scan reads all of it)."""
        pace = self.catch_up_pace
        if not pace.due(urgent=outbox.unsettled(self.register.documents)):
            return
        finished = False
        try:
            with pace.timer():
                finished = self._catch_up_scan()
        finally:
            if not finished:
                pace.soon()  # the next tick goes on, whatever stopped this one

    def _catch_up_scan(self) -> bool:
        """One catch-up pass; True when it left nothing behind that it knows of."""
        try:
            waiting = self.register.not_indexed(limit=CATCH_UP_BATCH)
            for doc in waiting:
                self._index(doc)
            indexed_all = len(waiting) < CATCH_UP_BATCH  # a full batch: there may be more
        except BACKEND_UNAVAILABLE as exc:
            indexed_all = False
            log.info("catch-up indexing waits for a backend (%s)", type(exc).__name__)
        outbox.sweep(self.register.documents, self.publish_event)
        return indexed_all

    def _index_now(self, doc):
        try:
            self._index(doc)
        except BACKEND_UNAVAILABLE:
            self.catch_up_pace.soon()
            # stored is stored: the timer indexes it when Elasticsearch answers again
            log.warning("document %s stored, indexing deferred: search engine unavailable",
                        doc["_id"])

    def _index(self, doc):
        if doc.get("deleted"):
            self.search_index.remove(f"document-{doc['_id']}", doc["revision"])
        else:
            self.search_index.put(f"document-{doc['_id']}", self.register.to_search(doc),
                                  revision=doc["revision"])
        self.register.mark_indexed(doc)
        outbox.relay(self.register.documents, doc["_id"], self.publish_event)


