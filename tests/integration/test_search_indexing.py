"""Site-wide search: articles indexed from news events, documents from the register (real ES)."""
from nameko.testing.services import entrypoint_hook
from documents.service import DocumentsService
from portal_common.events import new_event
from portal_common.mongo import make_client
from portal_common.settings import get_settings
from tests.bus import wait_until


def _article_event(article_id, revision, title, body="Nội dung bài viết."):
    return new_event("news", "article_published", {
        "article_id": article_id, "slug": "bai-viet", "title": title, "summary": "",
        "body_text": body, "category": {"slug": "ban-tuyen-giao", "name": "Ban Tuyên giáo"},
        "published_at": "2026-11-20T08:00:00.000Z", "revision": revision})


def _search(container, q, **kwargs):
    with entrypoint_hook(container, "search") as search:
        return search(q, **kwargs)


def _handled(event, timeout=20.0) -> bool:
    """Whether the documents service has processed ``event``: its consumer's inbox records
    the event once the handler ran, also when the handler ignored it. Events are handled
    concurrently, so one published later is no sign that an earlier one is done."""
    client = make_client("test")
    inbox = client[get_settings().database_name("documents")]["processed_events"]
    key = f"documents.handle_{event['type']}:{event['event_id']}"
    try:
        return bool(wait_until(lambda: inbox.find_one({"_id": key}, {"_id": 1}), timeout=timeout))
    finally:
        client.close()


def test_a_published_article_is_found_without_diacritics_with_marked_highlights(start_service, bus):
    container = start_service(DocumentsService)
    bus.publish(_article_event("a1", 2, "Kết luận về nắm bắt dư luận xã hội trong CNVCLĐ"))

    result = wait_until(lambda: _search(container, "ket luan du luan")["total"], timeout=10)
    assert result == 1
    hit = _search(container, "ket luan du luan")["items"][0]
    assert hit["kind"] == "article" and hit["id"] == "a1"
    assert "<mark>" in hit["highlight"]["title"]


def test_exact_diacritics_rank_above_folded_matches(start_service, bus):
    container = start_service(DocumentsService)
    bus.publish(_article_event("folded", 2, "Bàn về luật lao động"))  # "bàn" is not "bản"
    bus.publish(_article_event("exact", 2, "Bản luật lao động mới"))
    assert wait_until(lambda: _search(container, "ban luat")["total"] == 2, timeout=10)

    ranked = [hit["id"] for hit in _search(container, "Bản luật")["items"]]
    assert ranked == ["exact", "folded"]


def test_an_older_revision_arriving_late_does_not_overwrite_a_newer_one(start_service, bus):
    container = start_service(DocumentsService)
    bus.publish(_article_event("a2", 3, "Tiêu đề mới nhất"))
    wait_until(lambda: _search(container, "moi nhat")["total"], timeout=10)
    old = _article_event("a2", 2, "Tiêu đề cũ")
    bus.publish(old)
    assert _handled(old)

    assert _search(container, "tieu de cu")["total"] == 0
    assert _search(container, "moi nhat")["total"] == 1


def test_a_registered_document_is_searchable_and_announced(start_service, bus):
    bus.listen("documents")
    container = start_service(DocumentsService)
    with entrypoint_hook(container, "create_document") as create:
        doc = create({"number": "39-CT/TU", "type": "Chỉ thị", "issuer": "Tỉnh ủy Lào Cai",
                      "issued_date": "2014-03-25",
                      "title": "Tăng cường sự lãnh đạo đối với công tác nắm bắt dư luận xã hội",
                      "text": "Chỉ thị về công tác nắm bắt, phản ánh dư luận xã hội."})

    events = bus.collect(count=1, timeout=5)
    assert events and events[0]["type"] == "document_indexed"
    assert events[0]["data"]["document_id"] == doc["id"]
    hits = _search(container, "chi thi 39", kind="document")["items"]
    assert [h["id"] for h in hits] == [doc["id"]]
    with entrypoint_hook(container, "find_document") as find:
        assert find("39 ct/tu")["id"] == doc["id"]


def test_a_document_stored_while_elasticsearch_was_down_is_indexed_when_it_returns(
        start_service, monkeypatch):
    from portal_common.settings import get_settings

    working_url = get_settings().elasticsearch_url
    monkeypatch.setenv("ELASTICSEARCH_URL", "http://127.0.0.1:9")  # nothing listens there
    get_settings.cache_clear()
    without_search = start_service(DocumentsService)  # starts although the engine is down
    with entrypoint_hook(without_search, "create_document") as create:
        doc = create({"number": "45/2019/QH14", "type": "Bộ luật", "issuer": "Quốc hội",
                      "title": "Bộ luật Lao động", "text": "Bộ luật Lao động năm 2019."})
    without_search.stop()

    monkeypatch.setenv("ELASTICSEARCH_URL", working_url)
    get_settings.cache_clear()
    container = start_service(DocumentsService)
    with entrypoint_hook(container, "catch_up") as catch_up:
        wait_until(lambda: catch_up() or _search(container, "bo luat lao dong")["total"],
                   timeout=15)
    hits = _search(container, "bo luat lao dong")["items"]
    assert [h["id"] for h in hits] == [doc["id"]]


def _article(type_, article_id, revision, title="Tiêu đề", **extra):
    if type_ == "article_unpublished":
        return new_event("news", type_, {"article_id": article_id, "slug": "bai-viet",
                                         "revision": revision,
                                         "unpublished_at": "2026-11-21T08:00:00.000Z"})
    return _article_event(article_id, revision, title)


def test_an_updated_article_is_found_by_its_new_words_only(start_service, bus):
    container = start_service(DocumentsService)
    bus.publish(_article_event("u1", 2, "Hội nghị giao ban công đoàn"))
    wait_until(lambda: _search(container, "giao ban")["total"], timeout=10)
    bus.publish(new_event("news", "article_updated", {
        **_article_event("u1", 3, "Hội nghị tổng kết công đoàn")["data"]}))

    assert wait_until(lambda: _search(container, "tong ket")["total"] == 1, timeout=10)
    assert _search(container, "giao ban")["total"] == 0


def test_an_unpublished_article_leaves_search_and_a_late_older_publish_does_not_bring_it_back(
        start_service, bus):
    container = start_service(DocumentsService)
    bus.publish(_article_event("w1", 4, "Thông báo tuyển dụng cán bộ công đoàn"))
    wait_until(lambda: _search(container, "tuyen dung")["total"], timeout=10)
    bus.publish(_article("article_unpublished", "w1", 5))
    assert wait_until(lambda: _search(container, "tuyen dung")["total"] == 0, timeout=10)

    late = _article_event("w1", 4, "Thông báo tuyển dụng cán bộ công đoàn")
    bus.publish(late)
    assert _handled(late)
    assert _search(container, "tuyen dung")["total"] == 0

    bus.publish(_article_event("w1", 6, "Thông báo tuyển dụng cán bộ công đoàn"))  # republished
    assert wait_until(lambda: _search(container, "tuyen dung")["total"] == 1, timeout=10)


def test_an_unpublish_arriving_before_its_publish_wins(start_service, bus):
    container = start_service(DocumentsService)
    unpublished = _article("article_unpublished", "early", 3)
    published = _article_event("early", 2, "Bài viết đã gỡ trước khi kịp đăng")
    bus.publish(unpublished)
    bus.publish(published)
    assert _handled(unpublished) and _handled(published)
    assert _search(container, "da go truoc khi").get("total") == 0


def test_a_redelivered_event_changes_nothing(start_service, bus):
    container = start_service(DocumentsService)
    event = _article_event("r1", 2, "Đối thoại với công nhân khu công nghiệp")
    bus.publish(event)
    bus.publish(event)
    wait_until(lambda: _search(container, "doi thoai")["total"], timeout=10)
    assert _search(container, "doi thoai")["total"] == 1
