"""Document lookup ("Tra cứu văn bản") and site-wide search through the gateway, as the
frontend uses them, on the demo documents of the seed page."""
import time
import uuid

import pytest

from tests.bus import wait_until
from tests.files import tiny_pdf

KL_100 = ["100-KL/TW", "100 KL/TW", "kl 100", "kết luận 100", "ket luan 100", "KL 100"]
CT_39 = ["39-CT/TU", "39 CT/TU", "ct 39", "chỉ thị 39", "chi thi 39", "chỉ thị 39-CT/TU"]


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("number, spellings", [("100-KL/TW", KL_100), ("39-CT/TU", CT_39)])
def test_the_demo_documents_are_found_first_by_every_spelling(api, number, spellings):
    for spelling in spellings:
        lookup = api.get("/api/v1/documents/search", params={"q": spelling})
        assert lookup.status_code == 200, lookup.text
        assert lookup.json()["items"][0]["number"] == number, spelling
        site = api.get("/api/v1/search", params={"q": spelling}).json()["items"][0]
        assert (site["kind"], site["number"]) == ("document", number), spelling


def test_lookup_without_diacritics_has_facets_highlights_and_filters(api):
    result = api.get("/api/v1/documents/search", params={"q": "nam bat du luan xa hoi"}).json()
    assert result["total"] >= 2
    assert {"type", "issuer", "year"} <= set(result["facets"])
    types = {f["value"]: f["count"] for f in result["facets"]["type"]}
    assert types["Kết luận"] >= 1 and types["Chỉ thị"] >= 1
    assert any("<mark>" in (h["highlight"]["title"] or "") for h in result["items"])
    only = api.get("/api/v1/documents/search", params={
        "q": "du luan", "type": "chi thi", "issuer": "Tỉnh ủy Lào Cai", "year": 2014,
        "from": "2014-03-01", "to": "2014-03-31", "status": "in_force"}).json()
    assert [h["number"] for h in only["items"]] == ["39-CT/TU"]


def test_site_wide_search_returns_articles_and_documents_each_saying_its_kind(api):
    def kinds():  # the demo article is indexed by a consumer of its news event
        result = api.get("/api/v1/search", params={"q": "du luan xa hoi", "per_page": 20}).json()
        both = {hit["kind"] for hit in result["items"]} == {"article", "document"}
        return result if both else None

    result = wait_until(kinds, timeout=20)
    assert result, api.get("/api/v1/search", params={"q": "du luan xa hoi", "per_page": 20}).json()
    assert all(hit["highlight"]["title"] or hit["highlight"]["text"] for hit in result["items"])


def test_suggestions_while_typing_a_title_or_a_number(api):
    titles = api.get("/api/v1/documents/suggest", params={"q": "chi thi ve viec tang cu"}).json()
    assert titles["items"][0]["number"] == "39-CT/TU"
    numbers = api.get("/api/v1/documents/suggest", params={"q": "100-K"}).json()
    assert numbers["items"][0]["number"] == "100-KL/TW"


@pytest.mark.parametrize("params, field", [
    ({"q": "x", "type": "Sắc lệnh"}, "type"), ({"from": "2014-13-01"}, "from"),
    ({"to": "25/3/2014"}, "to"), ({"page": 1000, "per_page": 100}, "page"),
    ({"sort": "oldest"}, "sort"), ({"year": "hai nghin"}, "year"),
])
def test_bad_filters_are_422_problems_naming_the_field(api, params, field):
    response = api.get("/api/v1/documents/search", params=params)
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]


def test_staff_register_attach_download_and_remove_a_document(api, admin_token):
    marker = uuid.uuid4().hex[:6]
    payload = {"number": f"{marker}/QC-LĐLĐ", "type": "Quy chế", "issuer": "LĐLĐ tỉnh Lào Cai",
               "issued_date": "2024-02-01", "title": f"Quy chế tiếp công dân {marker}",
               "relations": [{"relation": "based_on", "number": "39-CT/TU"}]}
    assert api.post("/api/v1/documents", json=payload).status_code == 401
    created = api.post("/api/v1/documents", json=payload, headers=_auth(admin_token))
    assert created.status_code == 201, created.text
    doc = created.json()
    assert doc["relations"][0]["document"]["number"] == "39-CT/TU"
    directive = api.get("/api/v1/documents/search", params={"q": "39-CT/TU"}).json()["items"][0]

    def incoming():  # the gateway may keep the page until the documents event reaches it
        relations = api.get(f"/api/v1/documents/{directive['id']}").json()["relations"]
        return next((r for r in relations if r["number"] == payload["number"]), None)

    relation = wait_until(incoming, timeout=20)
    assert relation, "the new document never appeared among the directive's relations"
    assert {"direction": "incoming", "label": "Là căn cứ của",
            "number": payload["number"]}.items() <= relation.items()

    pdf = tiny_pdf(f"Lich tiep cong dan vao thu nam hang tuan {marker}")
    upload = api.post(f"/api/v1/documents/{doc['id']}/attachments", headers=_auth(admin_token),
                      files={"file": ("lich-tiep.pdf", pdf, "application/pdf")})
    assert upload.status_code == 201, upload.text
    attachment = upload.json()["attachments"][0]
    download = api.get(f"/api/v1/documents/{doc['id']}/attachments/{attachment['id']}")
    assert download.status_code == 200 and download.content == pdf
    assert download.headers["Content-Type"] == "application/pdf"
    assert wait_until(lambda: api.get("/api/v1/documents/search", params={
        "q": f"tiep cong dan thu nam {marker}"}).json()["total"] == 1, timeout=10)

    patched = api.patch(f"/api/v1/documents/{doc['id']}", headers=_auth(admin_token),
                        json={"status": "expired", "effective_date": "2024-03-01"})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["status_label"], patched.json()["effective_date"]) == (
        "Hết hiệu lực toàn bộ", "2024-03-01")
    assert api.patch(f"/api/v1/documents/{doc['id']}", headers=_auth(admin_token),
                     json={"type": "Sắc lệnh"}).status_code == 422

    text = api.post(f"/api/v1/documents/{doc['id']}/attachments", headers=_auth(admin_token),
                    files={"file": ("ghi-chu.txt", b"plain text", "text/plain")})
    assert text.status_code == 415
    huge = api.post(f"/api/v1/documents/{doc['id']}/attachments", headers=_auth(admin_token),
                    files={"file": ("lon.pdf", b"%PDF-1.4\n" + b"0" * (21 * 1024 * 1024),
                                    "application/pdf")})
    assert huge.status_code == 413

    assert api.delete(f"/api/v1/documents/{doc['id']}").status_code == 401
    removed = api.delete(f"/api/v1/documents/{doc['id']}", headers=_auth(admin_token))
    assert removed.status_code == 200
    assert api.get(f"/api/v1/documents/{doc['id']}").status_code == 404
    assert wait_until(lambda: api.get("/api/v1/documents/search", params={
        "q": f"tiep cong dan thu nam {marker}"}).json()["total"] == 0, timeout=10)


def test_search_is_503_quickly_while_elasticsearch_is_down_and_what_was_saved_meanwhile_is_found_after(
        platform, api, admin_token):
    marker = uuid.uuid4().hex[:6]
    working_url = platform.env.get("ELASTICSEARCH_URL", "http://127.0.0.1:9200")
    platform.stop("documents")
    platform.env["ELASTICSEARCH_URL"] = "http://127.0.0.1:9"  # a closed port
    try:
        platform.start("documents")
        started = time.monotonic()
        down = api.get("/api/v1/documents/search", params={"q": f"ke hoach {marker}"})
        assert down.status_code == 503 and time.monotonic() - started < 5
        assert down.headers["Content-Type"] == "application/problem+json"
        assert api.get("/api/v1/search", params={"q": f"ke hoach {marker}"}).status_code == 503
        saved = api.post("/api/v1/documents", headers=_auth(admin_token), json={
            "number": f"{marker}/KH-LĐLĐ", "type": "Kế hoạch", "issuer": "LĐLĐ tỉnh Lào Cai",
            "title": f"Kế hoạch kiểm tra công đoàn cơ sở {marker}"})
        assert saved.status_code == 201
    finally:
        platform.stop("documents")
        platform.env["ELASTICSEARCH_URL"] = working_url
        platform.start("documents")

    def found():
        response = api.get("/api/v1/documents/search", params={"q": f"ke hoach {marker}"})
        return response.status_code == 200 and response.json()["total"] == 1

    assert wait_until(found, timeout=30)
