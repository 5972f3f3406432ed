"""The Elasticsearch index behind site-wide search, and the Nameko dependency that owns it.

One versioned index (``<ns>_search-v1``) sits behind the alias ``<ns>_search``; readers and
writers use only the alias so a rebuild can swap it atomically. Text fields are analysed twice:
``vi`` keeps diacritics (exact Vietnamese, ranked higher) and ``.folded`` drops them (đ → d),
so "ket luan du luan" finds "Kết luận … dư luận".
"""
from __future__ import annotations

import threading
from typing import Any

from elasticsearch import (ApiError, BadRequestError, ConflictError, Elasticsearch,
                           NotFoundError, TransportError)
from nameko.extensions import DependencyProvider

from portal_common.settings import get_settings
from portal_common.startup import prepare_in_background

INDEX_VERSION = 1

ANALYSIS = {
    "analyzer": {
        "vi": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase"]},
        "vi_folded": {"type": "custom", "tokenizer": "standard",
                      "filter": ["lowercase", "asciifolding"]},
    },
}


def _text(boost_keyword: bool = False) -> dict[str, Any]:
    field: dict[str, Any] = {"type": "text", "analyzer": "vi",
                             "fields": {"folded": {"type": "text", "analyzer": "vi_folded"}}}
    if boost_keyword:
        field["fields"]["raw"] = {"type": "keyword", "ignore_above": 256}
    return field


MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "kind": {"type": "keyword"},          # article | document
        "ref_id": {"type": "keyword"},
        "slug": {"type": "keyword"},
        "number": {"type": "keyword", "fields": {"text": {"type": "text", "analyzer": "vi_folded"}}},
        "doc_type": {"type": "keyword"},
        "issuer": {"type": "keyword"},
        "category": {"type": "keyword"},
        "category_name": {"type": "keyword"},
        "title": _text(boost_keyword=True),
        "summary": _text(),
        "body": _text(),
        "date": {"type": "date"},
        "revision": {"type": "long"},
    },
}

HIGHLIGHT = {
    "pre_tags": ["<mark>"], "post_tags": ["</mark>"], "encoder": "html",
    "fields": {"title": {"number_of_fragments": 0}, "title.folded": {"number_of_fragments": 0},
               "body": {"fragment_size": 160, "number_of_fragments": 2},
               "body.folded": {"fragment_size": 160, "number_of_fragments": 2}},
}


class SearchIndex:
    """Domain operations on the search alias; hides the client from the service."""

    def __init__(self, client: Elasticsearch, alias: str):
        self.client = client
        self.alias = alias
        self.ready = False
        self._ensure_lock = threading.Lock()

    @property
    def current_index(self) -> str:
        return f"{self.alias}-v{INDEX_VERSION}"

    def ensure(self) -> None:
        """Create the versioned index and point the alias at it, unless already there.

        Safe to call concurrently and from several processes: whoever comes second finds the
        index (or the alias) already there.
        """
        if self.ready:
            return
        with self._ensure_lock:
            if self.ready:
                return
            if not self.client.indices.exists_alias(name=self.alias):
                try:
                    self.client.indices.create(
                        index=self.current_index,
                        settings={"number_of_shards": 1, "number_of_replicas": 0,
                                  "analysis": ANALYSIS},
                        mappings=MAPPINGS)
                except BadRequestError as exc:
                    if exc.error != "resource_already_exists_exception":
                        raise
                self.client.indices.update_aliases(actions=[
                    {"add": {"index": self.current_index, "alias": self.alias,
                             "is_write_index": True}}])
            self.ready = True

    def put(self, doc_id: str, document: dict[str, Any], revision: int) -> bool:
        """Index a document at a revision; an older or equal revision is ignored (returns False).

        External versioning makes indexing idempotent and safe when events arrive out of order.
        """
        self.ensure()
        try:
            # require_alias: never let a write auto-create a bare index under the alias's name
            self.client.index(index=self.alias, id=doc_id, document=document,
                              version=revision, version_type="external", refresh="wait_for",
                              require_alias=True)
            return True
        except ConflictError:
            return False

    def remove(self, doc_id: str) -> None:
        try:
            self.client.delete(index=self.alias, id=doc_id, refresh="wait_for")
        except NotFoundError:
            pass

    def search(self, q: str, *, kind: str | None, page: int, per_page: int) -> dict[str, Any]:
        # every word must occur somewhere in the document, diacritics optional: the folded
        # fields share one analyzer, so cross_fields treats them as one field
        must_match = {"multi_match": {
            "query": q, "type": "cross_fields", "operator": "and",
            "fields": ["title.folded^3", "summary.folded", "body.folded", "number.text^4"],
        }}
        should = [
            # words and phrases typed with their diacritics rank above folded-only matches
            {"multi_match": {"query": q, "type": "most_fields", "boost": 2,
                             "fields": ["title^3", "summary", "body"]}},
            {"match_phrase": {"title": {"query": q, "slop": 2, "boost": 4}}},
            {"match_phrase": {"title.folded": {"query": q, "slop": 2, "boost": 2}}},
            {"match_phrase": {"body": {"query": q, "slop": 3}}},
        ]
        query: dict[str, Any] = {"bool": {"must": [must_match], "should": should}}
        if kind:
            query["bool"]["filter"] = [{"term": {"kind": kind}}]
        self.ensure()
        result = self.client.search(index=self.alias, query=query, highlight=HIGHLIGHT,
                                    from_=(page - 1) * per_page, size=per_page,
                                    track_total_hits=True)
        items = []
        for hit in result["hits"]["hits"]:
            src, hl = hit["_source"], hit.get("highlight", {})
            items.append({
                "kind": src["kind"], "id": src["ref_id"], "title": src["title"],
                "slug": src.get("slug"), "number": src.get("number"),
                "date": src.get("date"), "score": hit["_score"],
                "highlight": {
                    "title": (hl.get("title") or hl.get("title.folded") or [None])[0],
                    "text": hl.get("body") or hl.get("body.folded") or [],
                },
            })
        return {"items": items, "page": page, "per_page": per_page,
                "total": result["hits"]["total"]["value"]}


class SearchIndexProvider(DependencyProvider):
    def setup(self):
        settings = get_settings()
        self.client = Elasticsearch(settings.elasticsearch_url,
                                    request_timeout=settings.elasticsearch_timeout_s,
                                    retry_on_timeout=False, max_retries=1)
        self.index = SearchIndex(self.client, settings.index_name("search"))

    def start(self):
        prepare_in_background(self.container, self.index.ensure,
                              what="the search index and alias", retry_on=(TransportError, ApiError))

    def get_dependency(self, worker_ctx) -> SearchIndex:
        return self.index

    def stop(self):
        self.client.close()

    kill = stop
