"""The Elasticsearch index behind document lookup and site-wide search.

Readers and writers use only the alias ``<ns>_search``; behind it sits one versioned index
``<ns>_search-v<mapping version>-<time>``. ``rebuild`` (the ``documents-reindex`` command, and
the service itself when the alias is missing or its mapping is outdated) fills a new index from
MongoDB and swaps the alias in one ``_aliases`` call, so searches never see a missing or
half-built index.

Text is analysed twice: the main field keeps diacritics (``vi``: a word typed with its marks
ranks higher), ``.folded`` drops them (``vi_folded``: lowercase, asciifolding, đ → d), so
"ket luan du luan" finds "Kết luận … dư luận". ``all_text`` (folded, fed by copy_to) is the
recall field, with typo tolerance for longer syllables when the query has a word the index does
not know (``typo_check``: a second search, only then); phrase clauses with a slop reward words
that appear together; a document number found in the query (``numbers.parse_query``) is
matched against the number's parts, indexed as keywords, and puts that document first.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Iterator

from elasticsearch import (ApiError, BadRequestError, ConflictError, Elasticsearch,
                           NotFoundError, TransportError, helpers)
from nameko.extensions import DependencyProvider

from portal_common.errors import Unavailable
from portal_common.mongo import make_client
from portal_common.settings import get_settings
from portal_common.startup import prepare_in_background

from documents import articles as article_search
from documents.numbers import QueryNumber, number_key, parse_query

log = logging.getLogger(__name__)

MAPPING_VERSION = 2

ANALYSIS = {
    "filter": {
        "prefixes": {"type": "edge_ngram", "min_gram": 1, "max_gram": 20},
    },
    "analyzer": {
        "vi": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase"]},
        "vi_folded": {"type": "custom", "tokenizer": "standard",
                      "filter": ["lowercase", "asciifolding"]},
        "vi_prefixes": {"type": "custom", "tokenizer": "standard",
                        "filter": ["lowercase", "asciifolding", "prefixes"]},
    },
}

# every text field a query looks into; copy_to gathers them, folded, into all_text
_ALL = ["all_text"]


def _text(*, suggest: bool = False, raw: bool = False) -> dict[str, Any]:
    field: dict[str, Any] = {"type": "text", "analyzer": "vi", "copy_to": _ALL,
                             "fields": {"folded": {"type": "text", "analyzer": "vi_folded"}}}
    if suggest:
        field["fields"]["suggest"] = {"type": "text", "analyzer": "vi_prefixes",
                                      "search_analyzer": "vi_folded"}
    if raw:
        field["fields"]["raw"] = {"type": "keyword", "ignore_above": 256}
    return field


def _keyword_text() -> dict[str, Any]:
    return {"type": "keyword", "copy_to": _ALL,
            "fields": {"text": {"type": "text", "analyzer": "vi_folded"}}}


MAPPINGS = {
    "dynamic": "strict",
    "_meta": {"mapping_version": MAPPING_VERSION},
    "properties": {
        "kind": {"type": "keyword"},          # article | document
        "ref_id": {"type": "keyword"},
        "slug": {"type": "keyword"},
        "number": _keyword_text(),
        "num": {"properties": {name: {"type": "keyword"} for name in
                               ("ordinal", "year", "type_code", "issuer_code", "key")}},
        "doc_type": _keyword_text(),
        "issuer": _keyword_text(),
        "signer": _keyword_text(),
        "status": {"type": "keyword"},
        "fields": _keyword_text(),
        "category": {"type": "keyword"},
        "category_name": {"type": "keyword"},
        "title": _text(suggest=True, raw=True),
        "summary": _text(),
        "body": _text(),
        "attachments": _text(),
        "date": {"type": "date"},
        "year": {"type": "integer", "copy_to": _ALL},
        "effective_date": {"type": "date"},
        "all_text": {"type": "text", "analyzer": "vi_folded"},
    },
}

# marks are placed on the folded sub-fields: one pass marks a word typed with or without its
# diacritics ("luan" and "luận" both mark "luận"), at half the cost of marking both analyses
_MARKED_FIELDS = ["title.folded", "summary.folded", "body.folded", "attachments.folded"]
HIGHLIGHT = {
    "pre_tags": ["<mark>"], "post_tags": ["</mark>"], "encoder": "html",
    "require_field_match": False,
    "fields": {"title.folded": {"number_of_fragments": 0},
               **{name: {"fragment_size": 160, "number_of_fragments": 2}
                  for name in _MARKED_FIELDS[1:]}},
}

# "3<-25%": up to three words, all must match; from four on, a quarter may be missing
MIN_SHOULD_MATCH = "3<-25%"
# one typo from 4 letters, two from 8 (Vietnamese syllables are short)
FUZZINESS = "AUTO:4,8"
TYPO_MIN_LENGTH = 4


def typo_check(q: str) -> dict[str, Any]:
    """A term suggester that answers only for words of ``q`` the index does not hold.

    Typo tolerance is applied only when it has something to correct: most Vietnamese syllables
    are one edit away from other real syllables ("dong" → "dung", "dang", "duong"), so expanding
    every word of every query costs a third of the search and drags in unrelated matches."""
    return {"text": q, "term": {"field": "all_text", "suggest_mode": "missing",
                                "min_word_length": TYPO_MIN_LENGTH, "prefix_length": 1,
                                "size": 1}}


def has_typos(result: dict[str, Any]) -> bool:
    """Whether the ``typo_check`` of a search response found an unknown word it can correct."""
    return any(entry["options"] for entry in (result.get("suggest") or {}).get("typos", []))

FACETS = {"type": "doc_type", "issuer": "issuer", "year": "year"}


@contextmanager
def engine_available():
    """Turn "the search engine does not answer" into ``Unavailable`` (503 at the gateway)."""
    try:
        yield
    except (ConnectionError, TransportError) as exc:
        raise Unavailable("the search engine is unavailable; try again shortly") from exc
    except ApiError as exc:
        if exc.meta.status >= 500:
            raise Unavailable("the search engine could not answer; try again shortly") from exc
        raise


def number_clauses(parsed: QueryNumber) -> list[dict[str, Any]]:
    """Boosts for a document whose number has the parts the query names."""
    clauses: list[dict[str, Any]] = []
    if parsed.has_number:
        exact = [{"term": {"num.ordinal": parsed.ordinal}}]
        if parsed.type_code:
            exact.append({"term": {"num.type_code": parsed.type_code}})
        if parsed.year and not parsed.year_only:
            exact.append({"term": {"num.year": parsed.year}})
        clauses.append({"constant_score": {"filter": {"bool": {"filter": exact}}, "boost": 150}})
        if parsed.issuer_code:
            clauses.append({"constant_score": {"filter": {"bool": {"filter": [
                exact[0], {"term": {"num.issuer_code": parsed.issuer_code}}]}}, "boost": 30}})
        if parsed.types:
            clauses.append({"constant_score": {"filter": {"bool": {"filter": [
                exact[0], {"terms": {"doc_type": parsed.types}}]}}, "boost": 30}})
    if parsed.year and parsed.year_only:
        clauses.append({"constant_score": {"filter": {"bool": {"should": [
            {"term": {"year": int(parsed.year)}}, {"term": {"num.year": parsed.year}}]}},
            "boost": 10}})
    if parsed.types:
        clauses.append({"constant_score": {"filter": {"terms": {"doc_type": parsed.types}},
                                           "boost": 10}})
    return clauses


def text_query(q: str, *, typos: bool = True) -> dict[str, Any]:
    """The scoring query for ``q``: found by its words (diacritics forgiven, and small typos when
    ``typos``) or by its document number; ranked by exact words and number parts (phrases:
    ``phrase_rescore``)."""
    parsed = parse_query(q)
    words: dict[str, Any] = {"query": q, "minimum_should_match": MIN_SHOULD_MATCH}
    if typos:
        words.update(fuzziness=FUZZINESS, prefix_length=1, max_expansions=20)
    recall: list[dict[str, Any]] = [{"match": {"all_text": words}}]
    if parsed.has_number:
        exact = {"bool": {"filter": [{"term": {"num.ordinal": parsed.ordinal}}]
                          + ([{"term": {"num.type_code": parsed.type_code}}]
                             if parsed.type_code else [])}}
        recall.append(exact)
    should: list[dict[str, Any]] = [
        {"match": {"title.folded": {"query": q, "boost": 3}}},
        *([{"match": {"all_text": {"query": q}}}] if typos else []),  # exact words beat typos
        {"multi_match": {"query": q, "type": "most_fields", "boost": 1.5,
                         "fields": ["title^2", "summary", "body", "attachments"]}},
        *number_clauses(parsed),
    ]
    return {"bool": {"must": [{"bool": {"should": recall, "minimum_should_match": 1}}],
                     "should": should}}


# phrases are scored on the best RESCORE_WINDOW hits only: reading positions for every match of
# a common word ("công đoàn" in a large register) cost more than the rest of the query
RESCORE_WINDOW = 50


def phrase_rescore(q: str, until: int = 10) -> dict[str, Any]:
    """Words typed together score higher where they appear together (slop 2 in titles, 3 in
    texts), with diacritics (exact) and without (folded). ``until``: the page's last hit, so
    deeper pages stay in the same order."""
    words = parse_query(q).words or q  # phrases are about words: the number has its own clauses
    return {"window_size": max(RESCORE_WINDOW, until), "query": {
        "query_weight": 1.0, "rescore_query_weight": 1.0,
        "rescore_query": {"bool": {"should": [
            {"match_phrase": {"title": {"query": words, "slop": 2, "boost": 6}}},
            {"match_phrase": {"title.folded": {"query": words, "slop": 2, "boost": 4}}},
            {"match_phrase": {"body": {"query": words, "slop": 3, "boost": 1}}},
            {"match_phrase": {"body.folded": {"query": words, "slop": 3, "boost": 1}}},
        ]}}}}


def _highlight(q: str | None) -> dict[str, Any] | None:
    if not q:
        return None
    # one cheap query for marking: the words as typed, on the folded fields, no fuzziness
    return {**HIGHLIGHT, "highlight_query": {"multi_match": {
        "query": q, "type": "most_fields", "fields": _MARKED_FIELDS}}}


# what a hit shows: the full text stays in Elasticsearch (a tenth of the bytes to carry back)
HIT_SOURCE = ["kind", "ref_id", "title", "slug", "number", "doc_type", "issuer", "status", "date"]


def _hit(hit: dict[str, Any]) -> dict[str, Any]:
    src, hl = hit["_source"], hit.get("highlight", {})
    text = hl.get("body.folded") or hl.get("summary.folded") or hl.get("attachments.folded") or []
    item = {"kind": src["kind"], "id": src["ref_id"], "title": src["title"],
            "slug": src.get("slug"), "number": src.get("number"), "type": src.get("doc_type"),
            "issuer": src.get("issuer"), "status": src.get("status"),
            "date": src.get("date"), "score": hit.get("_score"),
            "highlight": {"title": (hl.get("title.folded") or [None])[0],
                          "text": text}}
    return item


class SearchIndex:
    """Domain operations on the search alias; hides the client from the service."""

    def __init__(self, client: Elasticsearch, alias: str,
                 sources: Callable[[], "Sources"] | None = None):
        self.client = client
        self.alias = alias
        self.sources = sources
        self.ready = False
        self._ensure_lock = threading.Lock()

    # -- the index and its alias ---------------------------------------------------------------

    def new_index_name(self) -> str:
        return f"{self.alias}-v{MAPPING_VERSION}-{datetime.now(timezone.utc):%Y%m%d%H%M%S%f}"

    def indices_behind_alias(self) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=self.alias))
        except NotFoundError:
            return []

    def current_mapping_version(self) -> int | None:
        indices = self.indices_behind_alias()
        if not indices:
            return None
        mapping = self.client.indices.get_mapping(index=indices[0])[indices[0]]["mappings"]
        return (mapping.get("_meta") or {}).get("mapping_version")

    def create_index(self, name: str) -> None:
        self.client.indices.create(
            index=name, mappings=MAPPINGS,
            settings={"number_of_shards": 1, "number_of_replicas": 0, "analysis": ANALYSIS})

    def ensure(self) -> None:
        """Make sure the alias points at an index with the current mapping; build one from
        MongoDB if it does not (first start, or after a mapping change)."""
        if self.ready:
            return
        with self._ensure_lock:
            if self.ready:
                return
            if self.current_mapping_version() != MAPPING_VERSION:
                if self.sources is None:
                    raise RuntimeError("no index behind the alias and nothing to build it from")
                rebuild(self, self.sources())
            self.ready = True

    # -- writes --------------------------------------------------------------------------------

    def put(self, doc_id: str, document: dict[str, Any], revision: int) -> bool:
        """Index a document at a revision; an older or equal revision is ignored (False).

        External versioning makes indexing idempotent and safe when events arrive out of order.
        """
        self.ensure()
        try:
            # require_alias: never let a write auto-create a bare index under the alias's name
            self.client.index(index=self.alias, id=doc_id, document=document,
                              version=revision, version_type="external", refresh=True,
                              require_alias=True)
            return True
        except ConflictError:
            return False

    def remove(self, doc_id: str, revision: int) -> None:
        """Remove a document at a revision (a later re-index at a lower revision is refused)."""
        self.ensure()
        try:
            self.client.delete(index=self.alias, id=doc_id, version=revision,
                               version_type="external", refresh=True)
        except (NotFoundError, ConflictError):
            pass

    # -- reads ---------------------------------------------------------------------------------

    def _search(self, **body) -> dict[str, Any]:
        self.ensure()
        body.setdefault("track_total_hits", True)
        body.setdefault("source", HIT_SOURCE)
        return self.client.search(index=self.alias, **body)

    def _search_words(self, q: str, body: Callable[[dict[str, Any]], dict[str, Any]]
                      ) -> dict[str, Any]:
        """Search for ``q`` without typo tolerance first; only when the index does not know a
        word of ``q`` (``typo_check``) search again, forgiving small typos."""
        result = self._search(**body(text_query(q, typos=False)),
                              suggest={"typos": typo_check(q)})
        if has_typos(result):
            result = self._search(**body(text_query(q, typos=True)))
        return result

    def search_documents(self, query) -> dict[str, Any]:
        """Document lookup (``DocumentSearchQuery``): hits, total and facets.

        Facets work like a legal-document library's side panel: each one counts the matches
        under every filter except its own (``post_filter`` narrows the hits afterwards), so a
        user who picked type "Nghị định" still sees how many "Luật" there are to switch to."""
        filters: list[dict[str, Any]] = [{"term": {"kind": "document"}}]
        if query.from_ or query.to:
            bounds = {}
            if query.from_:
                bounds["gte"] = query.from_.isoformat()
            if query.to:
                bounds["lte"] = query.to.isoformat()
            filters.append({"range": {"date": bounds}})
        if query.status:
            filters.append({"term": {"status": query.status}})
        if query.field:
            filters.append({"term": {"fields": query.field}})
        chosen = {name: {"term": {field: value}} for (name, field), value in zip(
            FACETS.items(), (query.type, query.issuer, query.year)) if value is not None}
        sort_by_date = query.sort == "date" or (query.sort is None and not query.q)

        def facet(name: str, field: str) -> dict[str, Any]:
            others = [f for other, f in chosen.items() if other != name]
            terms = {"terms": {"field": field, "size": 50,
                               **({"order": {"_key": "desc"}} if name == "year" else {})}}
            return {"filter": {"bool": {"filter": others}}, "aggs": {"values": terms}}

        def body(scoring: dict[str, Any]) -> dict[str, Any]:
            return dict(
                query={"bool": {"must": [scoring], "filter": filters}},
                post_filter={"bool": {"filter": list(chosen.values())}} if chosen else None,
                highlight=_highlight(query.q),
                sort=[{"date": {"order": "desc", "missing": "_last"}}, "_score"]
                if sort_by_date else None,
                rescore=phrase_rescore(query.q, query.page * query.per_page)
                if query.q and not sort_by_date else None,
                track_scores=sort_by_date or None,
                aggs={name: facet(name, field) for name, field in FACETS.items()},
                from_=(query.page - 1) * query.per_page, size=query.per_page)

        result = (self._search_words(query.q, body) if query.q
                  else self._search(**body({"match_all": {}})))
        facets = {name: [{"value": b["key"], "count": b["doc_count"]}
                         for b in result["aggregations"][name]["values"]["buckets"]]
                  for name in FACETS}
        return {"items": [_hit(h) for h in result["hits"]["hits"]], "page": query.page,
                "per_page": query.per_page, "total": result["hits"]["total"]["value"],
                "facets": facets}

    def search_site(self, q: str, *, kind: str | None, page: int, per_page: int
                    ) -> dict[str, Any]:
        """Articles and documents together; each hit says its ``kind``."""
        filters = [{"term": {"kind": kind}}] if kind else []
        result = self._search_words(q, lambda scoring: dict(
            query={"bool": {"must": [scoring], "filter": filters}},
            rescore=phrase_rescore(q, page * per_page), highlight=_highlight(q),
            from_=(page - 1) * per_page, size=per_page))
        return {"items": [_hit(h) for h in result["hits"]["hits"]], "page": page,
                "per_page": per_page, "total": result["hits"]["total"]["value"]}

    def suggest(self, q: str, limit: int) -> list[dict[str, Any]]:
        """Documents whose title starts with the words typed, or whose number starts with
        what was typed ("100-K", "kl 10", "ket lu")."""
        should: list[dict[str, Any]] = [
            {"match": {"title.suggest": {"query": q, "operator": "and"}}},
            {"match": {"title.folded": {"query": q, "operator": "and", "boost": 2}}},
        ]
        key = number_key(q)
        if key and any(ch.isdigit() for ch in key):
            should.append({"prefix": {"num.key": {"value": key, "boost": 10}}})
        parsed = parse_query(q)
        if parsed.has_number:
            should.append({"bool": {"filter": [{"term": {"num.ordinal": parsed.ordinal}}]
                                    + ([{"term": {"num.type_code": parsed.type_code}}]
                                       if parsed.type_code else []), "boost": 8}})
        result = self._search(
            query={"bool": {"should": should, "minimum_should_match": 1,
                            "filter": [{"term": {"kind": "document"}}]}},
            size=limit, source=["ref_id", "number", "title", "doc_type", "date"],
            track_total_hits=False)
        return [{"id": h["_source"]["ref_id"], "number": h["_source"]["number"],
                 "type": h["_source"]["doc_type"], "title": h["_source"]["title"],
                 "issued_date": h["_source"].get("date")} for h in result["hits"]["hits"]]


# -- rebuilding from MongoDB ------------------------------------------------------------------

class Sources:
    """What the index is built from: the register and the article copies (MongoDB)."""

    def __init__(self, register, articles):
        self.register = register
        self.articles = articles

    def actions(self, index: str, since: datetime | None = None) -> Iterator[dict[str, Any]]:
        """Bulk actions that make ``index`` match MongoDB (for changes since ``since``)."""
        for doc in self.register.searchable(since):
            action = {"_index": index, "_id": f"document-{doc['_id']}",
                      "version": doc["revision"], "version_type": "external"}
            if doc.get("deleted"):
                yield {**action, "_op_type": "delete"}
            else:
                yield {**action, "_source": self.register.to_search(doc)}
        for article in self.articles.published(since):
            action = {"_index": index, "_id": article_search.index_id(article["_id"]),
                      "version": article["revision"], "version_type": "external"}
            if article.get("published"):
                yield {**action, "_source": article_search.to_search(article["state"])}
            else:
                yield {**action, "_op_type": "delete"}


def bulk_write(client: Elasticsearch, actions: Iterable[dict[str, Any]], *,
               chunk_size: int = 500, on_item: Callable[[bool, dict], None] | None = None
               ) -> tuple[int, int]:
    """Send actions in bulk batches; version conflicts and missing deletes are not errors
    (the index already holds something newer). Returns (written, failed)."""
    written = failed = 0
    for ok, item in helpers.streaming_bulk(client, actions, chunk_size=chunk_size,
                                           raise_on_error=False, raise_on_exception=True,
                                           max_retries=3):
        result = next(iter(item.values()))
        status = result.get("status", 0)
        good = ok or status in (404, 409)
        written += good
        failed += not good
        if not good:
            log.warning("bulk item failed: %s", result.get("error"))
        if on_item:
            on_item(good, result)
    return written, failed


def rebuild(index: SearchIndex, sources: Sources, *, chunk_size: int = 500,
            progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Build a new index from MongoDB, swap the alias to it atomically, drop the old ones.

    Writes that reach the old index while the new one is filled are replayed from MongoDB
    after the swap (everything changed since the start; versions make replays harmless).
    """
    client = index.client
    started = datetime.now(timezone.utc) - timedelta(seconds=5)
    adopted = adopt_articles(client, index.indices_behind_alias(), sources.articles)
    name = index.new_index_name()
    index.create_index(name)
    client.indices.put_settings(index=name, settings={"refresh_interval": "-1"})
    written, failed = bulk_write(
        client, sources.actions(name), chunk_size=chunk_size,
        on_item=(lambda ok, _item: progress(1)) if progress else None)
    client.indices.put_settings(index=name, settings={"refresh_interval": "1s"})
    client.indices.refresh(index=name)
    old = index.indices_behind_alias()
    try:
        client.indices.update_aliases(actions=[
            *({"remove": {"index": o, "alias": index.alias}} for o in old),
            {"add": {"index": name, "alias": index.alias, "is_write_index": True}}])
    except (BadRequestError, NotFoundError):
        client.indices.delete(index=name, ignore_unavailable=True)
        raise
    replayed, _ = bulk_write(client, sources.actions(index.alias, since=started))
    client.indices.refresh(index=name)
    if old:
        time.sleep(1)  # let searches that resolved the alias before the swap finish
        client.indices.delete(index=",".join(old), ignore_unavailable=True)
    log.info("search index rebuilt: %s (%d written, %d failed, %d replayed, %d articles "
             "adopted), dropped %s", name, written, failed, replayed, adopted, old)
    return {"index": name, "written": written, "failed": failed, "replayed": replayed,
            "adopted_articles": adopted, "dropped": old}


def adopt_articles(client: Elasticsearch, indices: list[str], articles) -> int:
    """Copy into MongoDB the articles an older index holds but the article copies lack.

    Indices of mapping version 1 were the only place articles lived (they were not kept in
    MongoDB yet); without this, upgrading would drop every article published before it from
    search until it was published again. A copy already known at the same or a newer revision
    is left alone, so this is a no-op once done."""
    adopted = 0
    if not indices:
        return 0
    for hit in helpers.scan(client, index=",".join(indices),
                            query={"query": {"term": {"kind": "article"}}}):
        src = hit["_source"]
        if articles.articles.find_one({"_id": src["ref_id"]}, {"_id": 1}) is not None:
            continue
        state = {"article_id": src["ref_id"], "slug": src.get("slug") or src["ref_id"],
                 "title": src["title"], "summary": src.get("summary") or "",
                 "body_text": src.get("body") or "",
                 "category": {"slug": src.get("category") or "",
                              "name": src.get("category_name") or ""},
                 "published_at": src["date"], "revision": int(src.get("revision") or 1)}
        adopted += articles.record(state["article_id"], state["revision"], state)
    return adopted


class SearchIndexProvider(DependencyProvider):
    def setup(self):
        from documents.articles import ArticleCopies
        from documents.register import DocumentRegister

        settings = get_settings()
        self.client = Elasticsearch(settings.elasticsearch_url,
                                    request_timeout=settings.elasticsearch_timeout_s,
                                    retry_on_timeout=False, max_retries=1)
        self.mongo = make_client(f"{self.container.service_name}-indexer", pool_size=4)
        database = self.mongo[settings.database_name(self.container.service_name)]
        sources = Sources(DocumentRegister(database), ArticleCopies(database))
        self.index = SearchIndex(self.client, settings.index_name("search"),
                                 sources=lambda: sources)

    def start(self):
        from pymongo.errors import PyMongoError

        prepare_in_background(self.container, self.index.ensure,
                              what="the search index and alias",
                              retry_on=(TransportError, ApiError, PyMongoError))

    def get_dependency(self, worker_ctx) -> SearchIndex:
        return self.index

    def stop(self):
        self.client.close()
        self.mongo.close()

    kill = stop


__all__ = ["SearchIndex", "SearchIndexProvider", "Sources", "adopt_articles", "bulk_write",
           "engine_available", "has_typos", "phrase_rescore", "rebuild", "text_query",
           "typo_check"]
