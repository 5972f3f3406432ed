"""The flow that proves the architecture, through the gateway as a frontend uses it:
an admin publishes an article, the news service announces it through its outbox, the documents
service indexes it, and search finds it by a word typed without diacritics. A page-view beacon
becomes a page_viewed event and the visitor counter rises by exactly one."""
import json
import subprocess
import uuid

from tests.bus import wait_until
from tests.e2e.conftest import ROOT, settled_visitors


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_an_article_published_by_an_admin_is_found_by_search_without_diacritics(api, admin_token):
    marker = uuid.uuid4().hex[:6]
    created = api.post("/api/v1/news", headers=_auth(admin_token), json={
        "title": f"Hội nghị đối thoại với công nhân khu công nghiệp Đông Phố Mới {marker}",
        "summary": "Lắng nghe tâm tư, nguyện vọng của người lao động.",
        "body_html": "<p>Công đoàn tổ chức đối thoại về tiền lương và bảo hiểm xã hội.</p>",
        "category": "ban-tuyen-giao",
        "credits": "Bài: Tiến Sỹ; Ảnh: Đồng Hồng - PT"})
    assert created.status_code == 201, created.text
    article = created.json()
    assert article["status"] == "draft"
    assert article["slug"].startswith("hoi-nghi-doi-thoai-voi-cong-nhan-khu-cong-nghiep-dong-pho-moi")

    published = api.post(f"/api/v1/news/{article['id']}/publish", headers=_auth(admin_token))
    assert published.status_code == 200 and published.json()["status"] == "published"

    def found():
        hits = api.get("/api/v1/search", params={"q": f"doi thoai dong pho moi {marker}"}).json()
        return [h for h in hits["items"] if h["id"] == article["id"]]

    hits = wait_until(found, timeout=15)
    assert hits, "the published article never became searchable"
    assert hits[0]["kind"] == "article" and "<mark>" in hits[0]["highlight"]["title"]

    page = api.get(f"/api/v1/news/{article['slug']}").json()
    assert page["title"] == article["title"] and page["credits"] == "Bài: Tiến Sỹ; Ảnh: Đồng Hồng - PT"

    def listed():  # a list another test had cached goes once the news event reaches the gateway
        items = api.get("/api/v1/news", params={"category": "ban-tuyen-giao"}).json()["items"]
        return article["id"] in [item["id"] for item in items]

    assert wait_until(listed, timeout=20), "the published article never appeared in its category"


def test_a_page_view_beacon_raises_the_visitor_total_by_exactly_one(api):
    before = settled_visitors(api)  # views sent by earlier tests of the session all counted
    response = api.post("/api/v1/analytics/hits", json={"path": "/tin-tuc/ban-tuyen-giao",
                                                         "title": "Ban Tuyên giáo"})
    assert response.status_code == 202

    after = wait_until(lambda: (v := api.get("/api/v1/analytics/visitors").json())["total"]
                       != before["total"] and v, timeout=15)
    assert after and after["total"] == before["total"] + 1
    assert after["today"] >= 1
    assert wait_until(lambda: api.get("/api/v1/analytics/visitors").json()["online"] >= 1,
                      timeout=20)  # counted every few seconds
    # nothing more arrives later: the single event was counted once
    assert not wait_until(lambda: api.get("/api/v1/analytics/visitors").json()["total"]
                          != after["total"], timeout=2)


def test_an_event_subscriber_sees_article_published_with_the_request_id(platform, api, admin_token):
    tail = subprocess.Popen(
        [str(ROOT / ".venv/bin/events"), "tail", "--source", "news", "--type",
         "article_published", "--count", "1", "--timeout", "30"],
        env=platform.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        tail.stderr.readline()  # "listening on news …": its queue is bound
        created = api.post("/api/v1/news", headers=_auth(admin_token), json={
            "title": f"Bản tin Công đoàn số {uuid.uuid4().hex[:4]}",
            "body_html": "<p>Nội dung</p>", "category": "ban-tuyen-giao"}).json()
        request_id = f"e2e-{uuid.uuid4().hex}"
        response = api.post(f"/api/v1/news/{created['id']}/publish",
                            headers={**_auth(admin_token), "X-Request-ID": request_id})
        assert response.headers["X-Request-ID"] == request_id
        out, _ = tail.communicate(timeout=40)
    finally:
        tail.kill()
    assert tail.returncode == 0
    event = json.loads(out.strip().splitlines()[-1])
    assert event["type"] == "article_published" and event["data"]["article_id"] == created["id"]
    # the request's id travelled gateway → RPC → news service → outbox → event
    assert event["correlation_id"] == request_id
    # the service logs the call when it returns, which may be just after the event left
    assert wait_until(lambda: request_id in platform.log_tail("news", lines=400), timeout=10)
