"""Rebuilding the search index from MongoDB behind the alias, while searches go on."""
import os
import subprocess
import threading
from pathlib import Path

from elasticsearch import Elasticsearch
from nameko.testing.services import entrypoint_hook

from documents.search_index import MAPPING_VERSION
from documents.service import DocumentsService
from portal_common.settings import get_settings
from tests.bus import wait_until
from tests.integration.test_search_indexing import _article_event

ROOT = Path(__file__).resolve().parents[2]
DOCS = [{"number": f"{n}-CT/TU", "type": "Chỉ thị", "issuer": "Tỉnh ủy Lào Cai",
         "title": f"Chỉ thị số {n} về công tác dân vận", "text": "Công tác dân vận ở cơ sở."}
        for n in (11, 12, 13)]


def _call(container, method, *args):
    with entrypoint_hook(container, method) as entrypoint:
        return entrypoint(*args)


def _es():
    return Elasticsearch(get_settings().elasticsearch_url, request_timeout=30)


def _reindex() -> dict:
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "documents-reindex"), "--quiet"],
                            env=os.environ.copy(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    import json
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_reindex_swaps_the_alias_atomically_while_searches_keep_succeeding(start_service, bus):
    container = start_service(DocumentsService)
    for doc in DOCS:
        _call(container, "create_document", doc)
    bus.publish(_article_event("dv1", 2, "Hội nghị công tác dân vận năm 2024"))
    assert wait_until(lambda: _call(container, "search", "dan van")["total"] == 4, timeout=10)
    alias = get_settings().index_name("search")
    es = _es()
    before = sorted(es.indices.get_alias(name=alias))

    answers, failures, done = [], [], threading.Event()

    def keep_searching():
        while not done.is_set():
            try:
                answers.append(_call(container, "search", "dan van")["total"])
            except Exception as exc:  # noqa: BLE001 - any failure is what the test looks for
                failures.append(repr(exc))

    searcher = threading.Thread(target=keep_searching)
    searcher.start()
    try:
        first, second = _reindex(), _reindex()
    finally:
        done.set()
        searcher.join(timeout=30)

    assert failures == []
    assert len(answers) > 10 and set(answers) == {4}
    assert first["written"] == 4 and second["written"] == 4
    after = sorted(es.indices.get_alias(name=alias))
    assert after == [second["index"]] and after != before
    assert f"-v{MAPPING_VERSION}-" in after[0]
    assert not es.indices.exists(index=before[0]) and not es.indices.exists(index=first["index"])
    es.close()


def test_the_service_rebuilds_an_index_whose_mapping_is_outdated(start_service):
    container = start_service(DocumentsService)
    _call(container, "create_document", DOCS[0])
    container.stop()
    alias = get_settings().index_name("search")
    es = _es()
    current = sorted(es.indices.get_alias(name=alias))
    outdated = f"{alias}-v1"
    es.indices.create(index=outdated, mappings={"_meta": {"mapping_version": 1},
                                                "properties": {"title": {"type": "text"}}})
    es.indices.update_aliases(actions=[{"remove": {"index": current[0], "alias": alias}},
                                       {"add": {"index": outdated, "alias": alias}}])

    restarted = start_service(DocumentsService)
    assert wait_until(lambda: _call(restarted, "search", "dan van")["total"] == 1, timeout=20)
    assert es.indices.get_alias(name=alias).keys() != {outdated}
    assert not es.indices.exists(index=outdated)
    es.close()


def test_articles_that_only_an_older_index_held_survive_the_upgrade(start_service):
    """Mapping version 1 kept articles only in Elasticsearch; the rebuild adopts them."""
    alias = get_settings().index_name("search")
    es = _es()
    outdated = f"{alias}-v1"
    es.indices.create(index=outdated, mappings={"_meta": {"mapping_version": 1}})
    es.index(index=outdated, id="article-old1", refresh=True, document={
        "kind": "article", "ref_id": "old1", "slug": "ket-qua-5-nam", "revision": 3,
        "title": "Kết quả sau 5 năm thực hiện Kết luận 100-KL/TW", "summary": "",
        "body": "Nắm bắt dư luận xã hội.", "category": "ban-tuyen-giao",
        "category_name": "Ban Tuyên giáo", "date": "2020-06-15T08:00:00.000Z"})
    es.indices.put_alias(index=outdated, name=alias)

    container = start_service(DocumentsService)

    def found():
        hits = _call(container, "search", "ket qua 5 nam")["items"]
        return [(h["kind"], h["id"], h["slug"]) for h in hits]
    assert wait_until(found, timeout=20) == [("article", "old1", "ket-qua-5-nam")]
    assert not es.indices.exists(index=outdated)
    es.close()
