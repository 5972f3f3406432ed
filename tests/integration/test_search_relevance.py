"""Search relevance on the judged set (tests/relevance): a floor, so a regression fails."""
import pytest
from elasticsearch import Elasticsearch

from portal_common.settings import get_settings
from tests.relevance import evaluate

NDCG_FLOOR = 0.85
RECALL_FLOOR = 0.9


@pytest.fixture
def indices(namespace):
    client = Elasticsearch(get_settings().elasticsearch_url, request_timeout=30)
    ours = evaluate.build_ours(client, f"{namespace}_search")
    evaluate.build_baseline(client, f"{namespace}_baseline")
    yield client, ours, f"{namespace}_baseline"
    client.close()


def test_the_judged_set_is_large_enough_to_mean_something():
    corpus = evaluate.corpus()
    assert len(evaluate.judgments()) >= 30 and len(corpus) >= 40
    assert {item["kind"] for item in corpus} == {"document", "article"}


def test_ndcg_and_recall_at_10_stay_above_the_floor_and_clearly_above_the_standard_analyser(
        indices):
    client, ours, baseline_name = indices
    mine = evaluate.evaluate(evaluate.ours(ours))
    plain = evaluate.evaluate(evaluate.baseline(client, baseline_name))

    weakest = sorted(mine.per_query, key=lambda row: row["ndcg"])[:5]
    assert mine.ndcg >= NDCG_FLOOR, weakest
    assert mine.recall >= RECALL_FLOOR, weakest
    assert mine.ndcg >= plain.ndcg + 0.15


def test_every_spelling_of_a_number_puts_its_document_first(indices):
    _client, ours, _ = indices
    search = evaluate.ours(ours)
    for spelling in ("100-KL/TW", "100 KL/TW", "kl 100", "kết luận 100", "ket luan 100"):
        assert search(spelling)[0] == "doc:100-KL/TW", spelling
    assert search("qđ 4290/qđ-tlđ")[0] == "doc:4290/QĐ-TLĐ"
    assert search("nghi dinh 43/2013")[0] == "doc:43/2013/NĐ-CP"
    assert search("45/2019/QH14")[0] == "doc:45/2019/QH14"
