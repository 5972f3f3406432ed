"""What a new user sees first: demo content from the seed page, readiness, and clear errors."""
from tests.bus import wait_until


def test_the_seed_article_reads_back_with_its_category_credits_and_captions(api):
    listed = api.get("/api/v1/news", params={"category": "ban-tuyen-giao"}).json()
    seed = [i for i in listed["items"] if i["title"].startswith("Kết quả sau 5 năm thực hiện")]
    assert seed, listed
    article = api.get(f"/api/v1/news/{seed[0]['slug']}").json()
    assert article["slug"].startswith("ket-qua-sau-5-nam-thuc-hien-ket-luan-100-kl-tw")
    assert [c["name"] for c in article["breadcrumb"]] == ["Tin tức - Sự kiện", "Ban Tuyên giáo"]
    assert article["credits"] == "Bài: Tiến Sỹ; Ảnh: Đồng Hồng - PT"
    assert article["source_unit"] == "LĐLĐ tỉnh Lào Cai"
    assert "<figcaption>Quang cảnh Hội nghị" in article["body_html"]
    assert all(r["id"] != article["id"] for r in article["related"])


def test_the_documents_the_seed_article_cites_are_searchable(api):
    for query, number in (("ket luan 100", "100-KL/TW"), ("chi thi 39", "39-CT/TU")):
        hits = wait_until(lambda: [h for h in api.get("/api/v1/search", params={"q": query})
                                   .json()["items"] if h["kind"] == "document"], timeout=10)
        assert hits and hits[0]["number"] == number
        document = api.get(f"/api/v1/documents/{hits[0]['id']}").json()
        assert document["number"] == number


def test_the_visitor_counter_continues_from_the_old_site(api):
    assert api.get("/api/v1/analytics/visitors").json()["total"] >= 331663


def test_readiness_reports_each_server(api):
    response = api.get("/readyz")
    assert response.status_code == 200
    assert {c["name"]: c["ok"] for c in response.json()["checks"]} == {
        "rabbitmq": True, "mongodb": True, "elasticsearch": True}
    assert api.get("/healthz").json() == {"status": "ok"}
    assert "portal_gateway_requests_total" in api.get("/metrics").text


def test_staff_endpoints_refuse_missing_and_bad_tokens(api):
    body = {"title": "Tiêu đề", "body_html": "<p>x</p>", "category": "ban-tuyen-giao"}
    missing = api.post("/api/v1/news", json=body)
    assert missing.status_code == 401
    assert missing.headers["Content-Type"] == "application/problem+json"
    bad = api.post("/api/v1/news", json=body, headers={"Authorization": "Bearer not.a.token"})
    assert bad.status_code == 401


def test_wrong_credentials_get_401_without_saying_which_part_was_wrong(api):
    wrong_password = api.post("/api/v1/auth/token", json={"username": "admin", "password": "x"})
    no_such_user = api.post("/api/v1/auth/token", json={"username": "nobody", "password": "x"})
    assert wrong_password.status_code == no_such_user.status_code == 401
    assert wrong_password.json()["detail"] == no_such_user.json()["detail"]


def test_bad_input_gets_a_problem_document_naming_each_field(api, admin_token):
    auth = {"Authorization": f"Bearer {admin_token}"}
    invalid = api.post("/api/v1/news", headers=auth, json={"title": "x", "category": "ban-tuyen-giao"})
    assert invalid.status_code == 422
    problem = invalid.json()
    assert problem["status"] == 422 and problem["title"]
    assert {e["field"] for e in problem["errors"]} == {"title", "body_html"}

    unknown_category = api.post("/api/v1/news", headers=auth, json={
        "title": "Tiêu đề hợp lệ", "body_html": "<p>x</p>", "category": "khong-co"})
    assert unknown_category.status_code == 422
    assert unknown_category.json()["errors"][0]["field"] == "category"

    operator = api.post("/api/v1/news", headers=auth, json={
        "title": "Tiêu đề hợp lệ", "body_html": "<p>x</p>", "category": {"$ne": ""}})
    assert operator.status_code == 422
    assert operator.json()["errors"][0]["field"] == "category.$ne"

    not_json = api.post("/api/v1/news", headers=auth, data="title=x")
    assert not_json.status_code == 415
    broken_json = api.post("/api/v1/news", headers={**auth, "Content-Type": "application/json"},
                           data="{")
    assert broken_json.status_code == 400
    too_big = api.post("/api/v1/analytics/hits", json={"path": "/" + "a" * 3_000_000})
    assert too_big.status_code == 413
    assert too_big.headers["Content-Type"] == "application/problem+json"


def test_unknown_paths_and_methods_are_problem_documents(api):
    missing = api.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["status"] == 404
    wrong_method = api.delete("/api/v1/categories")
    assert wrong_method.status_code == 405 and "GET" in wrong_method.headers["Allow"]
    unknown_article = api.get("/api/v1/news/khong-co-bai-nay")
    assert unknown_article.status_code == 404
    assert unknown_article.headers["Content-Type"] == "application/problem+json"
    assert api.get("/api/v1/search").status_code == 422
