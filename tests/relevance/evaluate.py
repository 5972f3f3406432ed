"""Relevance of search, measured on a judged set (corpus.jsonl + judgments.json).

Two indices are built from the same corpus in the same Elasticsearch: ours (the service's real
mapping, analysis and query, through ``SearchIndex``) and a baseline (Elasticsearch's default
``standard`` analyser on the same fields, one ``multi_match``). Each judged query runs on both;
nDCG@10 (gain 2^grade − 1) and recall@10 are averaged over the queries.
Used by tests/integration/test_search_relevance.py (a floor) and bench/search_relevance.py.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from elasticsearch import Elasticsearch, helpers

from documents import articles as article_search
from documents.register import DocumentRegister
from documents.search_index import SearchIndex
from portal_common.schemas.documents import DocumentIn

HERE = Path(__file__).resolve().parent
K = 10


def corpus() -> list[dict]:
    return [json.loads(line) for line in (HERE / "corpus.jsonl").read_text("utf-8").splitlines()
            if line.strip()]


def judgments() -> list[dict]:
    return json.loads((HERE / "judgments.json").read_text("utf-8"))["queries"]


def _search_bodies() -> list[tuple[str, dict]]:
    """(judgment key, search-index body) for every item of the corpus."""
    register = DocumentRegister.__new__(DocumentRegister)  # only its pure shaping methods
    bodies = []
    for item in corpus():
        if item["kind"] == "document":
            fields = {k: v for k, v in item.items() if k != "kind"}
            record = register.new_record(DocumentIn.model_validate(fields))
            record["_id"] = f"doc:{item['number']}"
            bodies.append((record["_id"], register.to_search(record)))
        else:
            state = {"article_id": f"art:{item['slug']}", "slug": item["slug"],
                     "title": item["title"], "summary": item["summary"],
                     "body_text": item["body_text"],
                     "category": {"slug": item["category"], "name": item["category"]},
                     "published_at": item["published_at"], "revision": 1}
            bodies.append((state["article_id"], article_search.to_search(state)))
    return bodies


def build_ours(client: Elasticsearch, alias: str) -> SearchIndex:
    index = SearchIndex(client, alias)
    name = index.new_index_name()
    index.create_index(name)
    client.indices.put_alias(index=name, name=alias)
    helpers.bulk(client, ({"_index": name, "_id": key, "_source": body}
                          for key, body in _search_bodies()), refresh="wait_for")
    index.ready = True
    return index


BASELINE_FIELDS = ["title^2", "summary", "body", "number", "doc_type", "issuer"]


def build_baseline(client: Elasticsearch, name: str) -> None:
    text = {"type": "text", "analyzer": "standard"}
    client.indices.create(index=name, settings={"number_of_shards": 1, "number_of_replicas": 0},
                          mappings={"properties": {
                              "ref_id": {"type": "keyword"},
                              **{f: text for f in ("title", "summary", "body", "number",
                                                   "doc_type", "issuer")}}})
    helpers.bulk(client, ({"_index": name, "_id": key, "_source": {
        "ref_id": key, **{f: body.get(f) for f in ("title", "summary", "body", "number",
                                                    "doc_type", "issuer")}}}
        for key, body in _search_bodies()), refresh="wait_for")


def ours(index: SearchIndex) -> Callable[[str], list[str]]:
    return lambda q: [hit["id"] for hit in index.search_site(q, kind=None, page=1,
                                                             per_page=K)["items"]]


def baseline(client: Elasticsearch, name: str) -> Callable[[str], list[str]]:
    def search(q: str) -> list[str]:
        result = client.search(index=name, size=K, query={"multi_match": {
            "query": q, "fields": BASELINE_FIELDS}})
        return [hit["_source"]["ref_id"] for hit in result["hits"]["hits"]]
    return search


def ndcg(ranked: list[str], grades: dict[str, int], k: int = K) -> float:
    dcg = sum((2 ** grades.get(key, 0) - 1) / math.log2(rank + 2)
              for rank, key in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(rank + 2) for rank, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], grades: dict[str, int], k: int = K) -> float:
    relevant = {key for key, g in grades.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


@dataclass
class Scores:
    ndcg: float
    recall: float
    per_query: list[dict]


def evaluate(search: Callable[[str], list[str]]) -> Scores:
    rows = []
    for judged in judgments():
        ranked = search(judged["q"])
        rows.append({"q": judged["q"], "ndcg": ndcg(ranked, judged["relevant"]),
                     "recall": recall(ranked, judged["relevant"]), "top3": ranked[:3]})
    return Scores(ndcg=sum(r["ndcg"] for r in rows) / len(rows),
                  recall=sum(r["recall"] for r in rows) / len(rows), per_query=rows)
