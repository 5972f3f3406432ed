"""The document register and document lookup, through the service's entrypoints (real servers)."""
import base64

import pytest
from nameko.testing.services import entrypoint_hook

from documents.service import DocumentsService
from portal_common.errors import Conflict, Invalid, NotFound
from tests.files import tiny_docx, tiny_pdf

LAW = {"number": "45/2019/QH14", "type": "Bộ luật", "issuer": "Quốc hội",
       "issued_date": "2019-11-20", "effective_date": "2021-01-01", "fields": ["Lao động"],
       "title": "Bộ luật Lao động", "text": "Bộ luật quy định tiêu chuẩn lao động, hợp đồng lao động."}
DECREE = {"number": "145/2020/NĐ-CP", "type": "Nghị định", "issuer": "Chính phủ",
          "signer": "Nguyễn Xuân Phúc", "issued_date": "2020-12-14", "fields": ["Lao động"],
          "title": "Nghị định quy định chi tiết một số điều của Bộ luật Lao động về điều kiện "
                   "lao động và quan hệ lao động",
          "text": "Hướng dẫn về hợp đồng lao động và đối thoại tại nơi làm việc.",
          "relations": [{"relation": "guides", "number": "45/2019/QH14"},
                        {"relation": "replaces", "number": "05/2015/NĐ-CP"}]}
OLD_CODE = {"number": "10/2012/QH13", "type": "Bộ luật", "issuer": "Quốc hội",
            "issued_date": "2012-06-18", "status": "expired", "fields": ["Lao động"],
            "title": "Bộ luật Lao động", "text": "Hết hiệu lực từ ngày 01/01/2021."}


def call(container, method, *args):
    with entrypoint_hook(container, method) as entrypoint:
        return entrypoint(*args)


@pytest.fixture
def documents(start_service):
    container = start_service(DocumentsService)
    for payload in (LAW, DECREE, OLD_CODE):
        call(container, "create_document", payload)
    return container


def lookup(container, **params):
    return call(container, "search_documents", params)


def test_relations_are_shown_from_both_documents(documents):
    law = call(documents, "find_document", "45/2019/qh14")
    both_ways = call(documents, "get_document", law["id"])["relations"]
    assert [(r["direction"], r["label"], r["number"]) for r in both_ways] == [
        ("incoming", "Được hướng dẫn bởi", "145/2020/NĐ-CP")]
    decree = call(documents, "find_document", "145/2020/NĐ-CP")
    outgoing = call(documents, "get_document", decree["id"])["relations"]
    assert [(r["label"], r["number"], bool(r["document"])) for r in outgoing] == [
        ("Hướng dẫn", "45/2019/QH14", True), ("Thay thế", "05/2015/NĐ-CP", False)]


def test_facets_count_matches_by_type_issuer_and_year_and_filters_narrow(documents):
    result = lookup(documents, q="bo luat lao dong")
    assert result["total"] == 3
    assert {f["value"]: f["count"] for f in result["facets"]["type"]} == {
        "Bộ luật": 2, "Nghị định": 1}
    assert {f["value"]: f["count"] for f in result["facets"]["year"]} == {
        2019: 1, 2020: 1, 2012: 1}
    assert [h["number"] for h in lookup(documents, q="bo luat lao dong", status="expired")[
        "items"]] == ["10/2012/QH13"]
    assert [h["number"] for h in lookup(documents, q="lao dong", type="nghi dinh")[
        "items"]] == ["145/2020/NĐ-CP"]
    assert [h["number"] for h in lookup(documents, q="lao dong", **{"from": "2019-01-01",
                                                                     "to": "2019-12-31"})[
        "items"]] == ["45/2019/QH14"]
    assert lookup(documents, issuer="Chính phủ", field="Lao động")["total"] == 1


def test_each_facet_counts_under_the_other_filters_so_the_user_can_switch(documents):
    picked = lookup(documents, q="lao dong", type="Nghị định")
    assert [h["number"] for h in picked["items"]] == ["145/2020/NĐ-CP"]
    assert {f["value"]: f["count"] for f in picked["facets"]["type"]} == {
        "Bộ luật": 2, "Nghị định": 1}
    assert {f["value"]: f["count"] for f in picked["facets"]["issuer"]} == {"Chính phủ": 1}
    both = lookup(documents, q="lao dong", type="Bộ luật", year=2019)
    assert [h["number"] for h in both["items"]] == ["45/2019/QH14"]
    assert {f["value"]: f["count"] for f in both["facets"]["year"]} == {2019: 1, 2012: 1}
    assert {f["value"]: f["count"] for f in both["facets"]["type"]} == {"Bộ luật": 1}
    assert lookup(documents, year=2012)["items"][0]["status"] == "expired"


def test_sort_by_date_puts_the_newest_first_and_no_query_lists_newest_first(documents):
    dated = [h["number"] for h in lookup(documents, q="lao dong", sort="date")["items"]]
    assert dated == ["145/2020/NĐ-CP", "45/2019/QH14", "10/2012/QH13"]
    assert [h["number"] for h in lookup(documents)["items"]] == dated


def test_highlights_mark_the_words_found_with_or_without_diacritics(documents):
    hit = lookup(documents, q="hop dong lao dong")["items"][0]
    assert "<mark>" in hit["highlight"]["text"][0]
    assert "<mark>Lao</mark>" in lookup(documents, q="bộ luật lao động")["items"][0][
        "highlight"]["title"]


def test_the_number_typed_in_any_spelling_finds_that_document_first(documents):
    for spelling in ("145/2020/NĐ-CP", "nd 145", "nghi dinh 145", "nghị định 145/2020"):
        assert lookup(documents, q=spelling)["items"][0]["number"] == "145/2020/NĐ-CP"


def test_suggestions_complete_titles_and_numbers(documents):
    titles = call(documents, "suggest", {"q": "nghi dinh quy dinh chi t"})["items"]
    assert [s["number"] for s in titles] == ["145/2020/NĐ-CP"]
    numbers = call(documents, "suggest", {"q": "45/20"})["items"]
    assert numbers[0]["number"] == "45/2019/QH14"


def test_bad_input_is_invalid_naming_the_field(documents):
    with pytest.raises(Invalid) as caught:
        lookup(documents, type="Sắc lệnh")
    assert caught.value.errors[0]["field"] == "type"
    with pytest.raises(Invalid):
        call(documents, "create_document", {**LAW, "number": "1/X", "type": "Truyện ngắn"})
    with pytest.raises(Conflict):
        call(documents, "create_document", {**LAW, "number": "45/2019/qh14"})


def test_a_removed_document_leaves_search_is_announced_and_frees_its_number(
        start_service, bus):
    bus.listen("documents")
    container = start_service(DocumentsService)
    doc = call(container, "create_document", LAW)
    assert lookup(container, q="bo luat lao dong")["total"] == 1

    call(container, "remove_document", doc["id"])

    assert lookup(container, q="bo luat lao dong")["total"] == 0
    with pytest.raises(NotFound):
        call(container, "get_document", doc["id"])
    events = bus.collect(count=2, timeout=10)
    assert [e["type"] for e in events] == ["document_indexed", "document_removed"]
    assert events[1]["data"] == {"document_id": doc["id"], "number": "45/2019/QH14"}
    again = call(container, "create_document", LAW)
    assert again["id"] != doc["id"]
    with pytest.raises(NotFound):
        call(container, "remove_document", doc["id"])


def test_attached_pdf_and_docx_are_searchable_and_downloadable_as_uploaded(documents):
    law = call(documents, "find_document", "45/2019/QH14")
    pdf = tiny_pdf("Phu luc mau bien ban thuong luong tap the")
    docx = tiny_docx("Hướng dẫn ký kết thỏa ước lao động tập thể ngành dệt may")
    call(documents, "add_attachment", law["id"], "phu-luc.pdf", "application/pdf",
         base64.b64encode(pdf).decode())
    doc = call(documents, "add_attachment", law["id"], "huong-dan.docx",
               "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
               base64.b64encode(docx).decode())

    assert [a["filename"] for a in doc["attachments"]] == ["phu-luc.pdf", "huong-dan.docx"]
    assert [h["number"] for h in lookup(documents, q="bien ban thuong luong")["items"]] == [
        "45/2019/QH14"]
    assert [h["number"] for h in lookup(documents, q="thỏa ước dệt may")["items"]] == [
        "45/2019/QH14"]
    original = call(documents, "get_attachment", law["id"], doc["attachments"][0]["id"])
    assert base64.b64decode(original["data_b64"]) == pdf
    with pytest.raises(Invalid):
        call(documents, "add_attachment", law["id"], "x.pdf", "application/pdf",
             base64.b64encode(b"%PDF-1.4 not really").decode())


def test_search_answers_unavailable_quickly_while_elasticsearch_is_down(start_service,
                                                                        monkeypatch):
    from portal_common.errors import Unavailable
    from portal_common.settings import get_settings

    working_url = get_settings().elasticsearch_url
    monkeypatch.setenv("ELASTICSEARCH_URL", "http://127.0.0.1:9")  # nothing listens there
    get_settings.cache_clear()
    try:
        container = start_service(DocumentsService)
        with pytest.raises(Unavailable):
            lookup(container, q="lao dong")
        with pytest.raises(Unavailable):
            call(container, "search", "lao dong")
        with pytest.raises(Unavailable):
            call(container, "suggest", {"q": "lao"})
        stored = call(container, "create_document", LAW)  # stored; indexed when ES returns
        assert call(container, "get_document", stored["id"])["number"] == "45/2019/QH14"
    finally:  # the namespace's indices are dropped through the working address
        monkeypatch.setenv("ELASTICSEARCH_URL", working_url)
        get_settings.cache_clear()


def test_a_change_of_status_or_title_is_searchable_and_announced(documents, bus):
    bus.listen("documents")
    law = call(documents, "find_document", "45/2019/QH14")
    changed = call(documents, "update_document", law["id"], {
        "status": "partially_expired", "title": "Bộ luật Lao động (sửa đổi)"})
    assert (changed["status"], changed["status_label"]) == ("partially_expired",
                                                            "Hết hiệu lực một phần")
    assert [h["number"] for h in lookup(documents, q="sua doi", status="partially_expired")[
        "items"]] == ["45/2019/QH14"]
    assert bus.collect(count=1, timeout=5)[0]["type"] == "document_indexed"
    with pytest.raises(Invalid):
        call(documents, "update_document", law["id"], {})
    with pytest.raises(Invalid):
        call(documents, "update_document", law["id"], {"title": None})
    with pytest.raises(NotFound):
        call(documents, "update_document", "nope", {"status": "expired"})
