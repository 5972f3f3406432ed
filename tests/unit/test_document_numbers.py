"""Document numbers in every spelling people type, and the lookup's input rules."""
import pytest

from documents.attachments import extract_text
from documents.numbers import number_key, parse_number, parse_query
from portal_common.errors import Invalid, validated
from portal_common.schemas.documents import DocumentIn, DocumentSearchQuery, SiteSearchQuery
from tests.files import tiny_docx, tiny_pdf


@pytest.mark.parametrize("number, parts", [
    ("100-KL/TW", ("100", None, "KL", "TW")),
    ("39-CT/TU", ("39", None, "CT", "TU")),
    ("45/2019/QH14", ("45", "2019", None, "QH14")),
    ("145/2020/NĐ-CP", ("145", "2020", "ND", "CP")),
    ("4290/QĐ-TLĐ", ("4290", None, "QD", "TLD")),
    ("02-NQ/TW", ("2", None, "NQ", "TW")),
    ("10/2020/TT-BLĐTBXH", ("10", "2020", "TT", "BLDTBXH")),
])
def test_a_registered_number_splits_into_ordinal_year_type_code_and_issuer_code(number, parts):
    parsed = parse_number(number)
    assert (parsed.ordinal, parsed.year, parsed.type_code, parsed.issuer_code) == parts


@pytest.mark.parametrize("query", ["100-KL/TW", "100 KL/TW", "kl 100", "KL 100", "kết luận 100",
                                   "ket luan 100", "Kết luận số 100-KL/TW", "100-kl"])
def test_every_spelling_of_ket_luan_100_names_ordinal_100_of_type_kl(query):
    parsed = parse_query(query)
    assert (parsed.ordinal, parsed.type_code) == ("100", "KL")
    assert parsed.types == ["Kết luận"]


def test_decision_4290_with_diacritics_lowercase_keeps_its_issuer_code():
    parsed = parse_query("qđ 4290/qđ-tlđ")
    assert (parsed.ordinal, parsed.type_code, parsed.issuer_code) == ("4290", "QD", "TLD")


@pytest.mark.parametrize("query, expected", [
    ("nghi dinh 43/2013", ("43", "2013", "ND")),
    ("nghị định 145", ("145", None, "ND")),
    ("45/2019/QH14", ("45", "2019", None)),
    ("chỉ thị 39", ("39", None, "CT")),
])
def test_numbers_with_a_year_or_a_type_word_are_understood(query, expected):
    parsed = parse_query(query)
    assert (parsed.ordinal, parsed.year, parsed.type_code) == expected


@pytest.mark.parametrize("query", ["luật công đoàn 2012", "luat bhxh 2014", "luật 2012",
                                   "bo luat lao dong 2019"])
def test_a_year_on_its_own_is_a_year_not_an_ordinal(query):
    parsed = parse_query(query)
    assert parsed.ordinal is None and parsed.year_only and parsed.year


def test_words_around_a_number_are_kept_for_phrase_matching():
    assert parse_query("luật công đoàn 2012").words == "luật công đoàn"
    assert parse_query("100 KL/TW").words == ""
    assert parse_query("luat cong doan").ordinal is None


def test_one_key_per_number_whatever_the_spelling():
    assert number_key("100-KL/TW") == number_key("100 kl/tw") == number_key("100 KL TW")
    assert number_key("4290/QĐ-TLĐ") == number_key("4290/qd-tld")


def _fields(exc: Invalid) -> list[str]:
    return [error["field"] for error in exc.errors]


def test_an_unknown_document_type_is_refused_naming_the_field_and_known_types_are_canonical():
    with pytest.raises(Invalid) as caught:
        validated(DocumentSearchQuery, {"type": "Sắc lệnh vui"})
    assert _fields(caught.value) == ["type"]
    assert validated(DocumentSearchQuery, {"type": "ket luan"}).type == "Kết luận"
    assert validated(DocumentIn, {"number": "1/QC", "type": "QUY CHẾ", "issuer": "LĐLĐ tỉnh",
                                  "title": "Quy chế làm việc"}).type == "Quy chế"


@pytest.mark.parametrize("params, field", [
    ({"from": "25/3/2014"}, "from"), ({"to": "2014-02-30"}, "to"),
    ({"from": "2015-01-01", "to": "2014-01-01"}, "to"), ({"year": "nam"}, "year"),
    ({"status": "valid"}, "status"), ({"page": "101", "per_page": "100"}, "page"),
    ({"sort": "newest"}, "sort"), ({"colour": "red"}, "colour"),
])
def test_bad_filters_are_refused_naming_the_field(params, field):
    with pytest.raises(Invalid) as caught:
        validated(DocumentSearchQuery, params)
    assert field in _fields(caught.value)


def test_pages_stop_at_ten_thousand_results():
    assert validated(SiteSearchQuery, {"q": "x", "page": 100, "per_page": 100}).page == 100
    with pytest.raises(Invalid) as caught:
        validated(SiteSearchQuery, {"q": "x", "page": 1001, "per_page": 10})
    assert _fields(caught.value) == ["page"]


def test_text_is_extracted_from_pdf_and_docx_and_anything_else_is_refused():
    assert "Quy che phoi hop" in extract_text(tiny_pdf("Quy che phoi hop cong doan"))
    assert "Quy chế phối hợp" in extract_text(tiny_docx("Quy chế phối hợp công đoàn"))
    with pytest.raises(Invalid) as caught:
        extract_text(b"GIF89a not a document")
    assert _fields(caught.value) == ["file"]
    with pytest.raises(Invalid):
        extract_text(b"%PDF-1.4 broken")


def test_a_patch_with_null_lists_clears_them_and_null_required_fields_are_refused():
    import pytest
    from pydantic import ValidationError

    from portal_common.schemas.documents import DocumentPatch

    patch = DocumentPatch.model_validate({"relations": None, "fields": None, "text": None})
    assert patch.model_dump(exclude_unset=True) == {"relations": [], "fields": [], "text": ""}
    with pytest.raises(ValidationError):
        DocumentPatch.model_validate({"title": None})
