"""Relevance of search on the judged set (tests/relevance): our analysis vs a plain
``standard``-analyser index of the same corpus, same Elasticsearch, same run."""
from __future__ import annotations

import uuid

from elasticsearch import Elasticsearch

from bench.harness import machine, save
from portal_common.settings import Settings
from tests.relevance import evaluate


def run() -> str:
    client = Elasticsearch(Settings().elasticsearch_url, request_timeout=60)
    prefix = f"benchrel{uuid.uuid4().hex[:6]}"
    try:
        ours_index = evaluate.build_ours(client, f"{prefix}_search")
        evaluate.build_baseline(client, f"{prefix}_baseline")
        ours = evaluate.evaluate(evaluate.ours(ours_index))
        plain = evaluate.evaluate(evaluate.baseline(client, f"{prefix}_baseline"))
    finally:
        client.indices.delete(index=f"{prefix}_*", expand_wildcards="all",
                              ignore_unavailable=True)
        client.close()
    corpus = evaluate.corpus()
    m = machine()
    lines = [
        "## Search relevance on the judged set", "",
        f"{m['date']}. {len(evaluate.judgments())} judged queries over {len(corpus)} documents "
        f"and articles (tests/relevance/); graded 2 (what the user looks for) and 1 (useful).",
        "", "| index and query | nDCG@10 | recall@10 |", "|---|---:|---:|",
        f"| ours: folded + exact sub-fields, number parser, phrase and typo clauses | "
        f"{ours.ndcg:.3f} | {ours.recall:.3f} |",
        f"| baseline: `standard` analyser, one `multi_match` | {plain.ndcg:.3f} | "
        f"{plain.recall:.3f} |", "",
        "| query | ours nDCG@10 | baseline nDCG@10 |", "|---|---:|---:|",
        *(f"| {a['q']} | {a['ndcg']:.2f} | {b['ndcg']:.2f} |"
          for a, b in zip(ours.per_query, plain.per_query)),
    ]
    return save("search_relevance", lines, {
        "machine": m, "ours": {"ndcg_at_10": ours.ndcg, "recall_at_10": ours.recall},
        "baseline": {"ndcg_at_10": plain.ndcg, "recall_at_10": plain.recall},
        "per_query": [{"q": a["q"], "ours": a["ndcg"], "baseline": b["ndcg"]}
                      for a, b in zip(ours.per_query, plain.per_query)]})
