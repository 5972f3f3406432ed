"""Smoke test for the local Elasticsearch node, using the official Python client.

    .venv/bin/python deploy/local/elasticsearch/smoke_test.py http://127.0.0.1:9200 [INDEX_PREFIX]

Everything is checked with asserts; prints "SMOKE OK" on success. It checks what the platform
relies on, so it passes on the official image as well (tests/integration runs it against
ELASTICSEARCH_URL, whichever server that is).
"""

import sys
import time

from elasticsearch import Elasticsearch, helpers

URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:9299"
PREFIX = sys.argv[2] if len(sys.argv) > 2 else f"smoke-{int(time.time() * 1000)}"

es = Elasticsearch(URL, request_timeout=30)

# --- info + product header (the client refuses to work without X-elastic-product) ----------------
info = es.info()
assert info["version"]["number"].startswith("8."), info
assert info["tagline"] == "You Know, for Search", info
assert es.ping()
raw = es.perform_request("GET", "/", headers={"accept": "application/json"})
assert raw.meta.headers.get("x-elastic-product") == "Elasticsearch", raw.meta.headers
health = es.cluster.health(wait_for_status="yellow", timeout="30s")
assert health["status"] in ("green", "yellow"), health

# --- custom analyzer with Vietnamese folding ------------------------------------------------------
docs_index = f"{PREFIX}-docs"
es.indices.create(
    index=docs_index,
    settings={
        "number_of_shards": 1,
        "number_of_replicas": 0,
        "analysis": {
            "filter": {
                "vn_folding": {"type": "asciifolding", "preserve_original": True},
                "prefix_ngram": {"type": "edge_ngram", "min_gram": 1, "max_gram": 10},
            },
            "char_filter": {
                "strip": {"type": "html_strip"},
                "amp": {"type": "mapping", "mappings": ["& => và"]},
            },
            "analyzer": {
                "vn_folded": {
                    "type": "custom",
                    "char_filter": ["strip", "amp"],
                    "tokenizer": "standard",
                    "filter": ["lowercase", "vn_folding"],
                },
                "vn_prefix": {
                    "type": "custom",
                    "tokenizer": "standard",
                    "filter": ["lowercase", "asciifolding", "prefix_ngram"],
                },
            },
            "normalizer": {"kw_folded": {"type": "custom", "filter": ["lowercase", "asciifolding", "trim"]}},
        },
    },
    mappings={
        "properties": {
            "title": {
                "type": "text",
                "fields": {
                    "folded": {"type": "text", "analyzer": "vn_folded"},
                    "prefix": {"type": "text", "analyzer": "vn_prefix", "search_analyzer": "vn_folded"},
                },
            },
            "category": {"type": "keyword"},
            "category_norm": {"type": "keyword", "normalizer": "kw_folded"},
            "suggest": {"type": "completion", "analyzer": "vn_folded"},
        }
    },
)

vn_docs = [
    {"_id": "kl100", "title": "Kết luận 100-KL/TW về việc nắm bắt dư luận xã hội", "category": "Văn bản"},
    {"_id": "dv", "title": "Đoàn viên công đoàn", "category": "Tổ chức"},
    {"_id": "x3", "title": "Hội nghị Ban Chấp hành", "category": "Văn bản"},
]
for d in vn_docs:
    body = dict(d)
    doc_id = body.pop("_id")
    body["category_norm"] = f"  {body['category']} "
    body["suggest"] = {"input": [body["title"]]}
    es.index(index=docs_index, id=doc_id, document=body)
es.indices.refresh(index=docs_index)


def hit_ids(query_text):
    r = es.search(
        index=docs_index,
        query={"multi_match": {"query": query_text, "fields": ["title", "title.folded"], "operator": "and"}},
    )
    return [h["_id"] for h in r["hits"]["hits"]]


assert hit_ids("ket luan du luan") == ["kl100"], hit_ids("ket luan du luan")
assert hit_ids("doan vien") == ["dv"], hit_ids("doan vien")
assert hit_ids("Kết luận") == ["kl100"]  # accented query still matches (preserve_original)
assert hit_ids("doan hoi nghi") == []

# prefix search via edge_ngram filter
r = es.search(index=docs_index, query={"match": {"title.prefix": {"query": "đoà", "operator": "and"}}})
assert [h["_id"] for h in r["hits"]["hits"]] == ["dv"], r["hits"]

# keyword normalizer (lowercase + asciifolding + trim)
r = es.search(index=docs_index, query={"term": {"category_norm": "van ban"}})
assert r["hits"]["total"]["value"] == 2, r["hits"]["total"]

# --- highlight --------------------------------------------------------------------------------------
r = es.search(
    index=docs_index,
    query={"match": {"title.folded": "du luan"}},
    highlight={"pre_tags": ["<mark>"], "post_tags": ["</mark>"], "fields": {"title.folded": {}}},
)
frag = r["hits"]["hits"][0]["highlight"]["title.folded"][0]
assert "<mark>dư</mark>" in frag and "<mark>luận</mark>" in frag, frag

# --- terms aggregation ------------------------------------------------------------------------------
r = es.search(index=docs_index, size=0, aggs={"cats": {"terms": {"field": "category"}}})
buckets = {b["key"]: b["doc_count"] for b in r["aggregations"]["cats"]["buckets"]}
assert buckets == {"Văn bản": 2, "Tổ chức": 1}, buckets

# --- completion suggester ---------------------------------------------------------------------------
r = es.search(index=docs_index, suggest={"s": {"prefix": "doan v", "completion": {"field": "suggest"}}})
opts = [o["_id"] for o in r["suggest"]["s"][0]["options"]]
assert opts == ["dv"], r["suggest"]

# --- _analyze: đ -> d ---------------------------------------------------------------------------------
r = es.indices.analyze(index=docs_index, analyzer="vn_folded", text="Đoàn <b>đảng</b> & Việt")
tokens = [t["token"] for t in r["tokens"]]
assert "doan" in tokens and "đoàn" in tokens and "dang" in tokens and "đảng" in tokens, tokens
assert "và" in tokens and "va" in tokens and "viet" in tokens and "<b>" not in tokens, tokens
r = es.indices.analyze(tokenizer="keyword", filter=["asciifolding"], text="đĐ Điện Biên Phủ")
assert r["tokens"][0]["token"] == "dD Dien Bien Phu", r
r = es.indices.analyze(
    tokenizer="whitespace",
    filter=[{"type": "word_delimiter_graph"}, "lowercase", {"type": "unique"}],
    text="Wi-Fi wifi WI-FI",
)
assert [t["token"] for t in r["tokens"]] == ["wi", "fi", "wifi"], r
r = es.indices.analyze(
    tokenizer={"type": "edge_ngram", "min_gram": 2, "max_gram": 3, "token_chars": ["letter"]},
    text="Hà Nội",
)
assert [t["token"] for t in r["tokens"]] == ["Hà", "Nộ", "Nội"], r
r = es.indices.analyze(
    tokenizer="keyword",
    char_filter=[{"type": "pattern_replace", "pattern": "(\\d+)-(\\d+)", "replacement": "$1_$2"}],
    text="100-200",
)
assert r["tokens"][0]["token"] == "100_200", r

# --- bulk 1000 docs ---------------------------------------------------------------------------------
bulk_v1 = f"{PREFIX}-bulk-v1"
bulk_v2 = f"{PREFIX}-bulk-v2"
for name in (bulk_v1, bulk_v2):
    es.indices.create(
        index=name,
        settings={"number_of_shards": 1, "number_of_replicas": 0},
        mappings={"properties": {"n": {"type": "integer"}, "t": {"type": "text"}, "k": {"type": "keyword"}}},
    )
ok, errors = helpers.bulk(
    es,
    ({"_index": bulk_v1, "_id": str(i), "n": i, "t": f"tài liệu số {i}", "k": f"k{i % 10}"} for i in range(1000)),
    refresh="wait_for",
)
assert ok == 1000 and not errors, (ok, errors)
assert es.count(index=bulk_v1)["count"] == 1000
r = es.search(index=bulk_v1, size=0, aggs={"k": {"terms": {"field": "k", "size": 20}}, "s": {"sum": {"field": "n"}}})
assert len(r["aggregations"]["k"]["buckets"]) == 10 and r["aggregations"]["s"]["value"] == sum(range(1000)), r

# --- alias swap (remove + add in one update_aliases call) ------------------------------------------
alias = f"{PREFIX}-current"
es.indices.update_aliases(actions=[{"add": {"index": bulk_v1, "alias": alias}}])
assert list(es.indices.get_alias(name=alias).keys()) == [bulk_v1]
es.index(index=bulk_v2, id="only", document={"n": 1, "t": "phiên bản hai", "k": "v2"}, refresh=True)
es.indices.update_aliases(
    actions=[
        {"remove": {"index": bulk_v1, "alias": alias}},
        {"add": {"index": bulk_v2, "alias": alias}},
    ]
)
assert list(es.indices.get_alias(name=alias).keys()) == [bulk_v2]
assert es.count(index=alias)["count"] == 1

# --- cleanup ------------------------------------------------------------------------------------------
es.indices.delete(index=f"{PREFIX}-*")
assert not es.indices.exists(index=docs_index)

print("SMOKE OK")
