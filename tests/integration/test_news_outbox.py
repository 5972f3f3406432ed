"""Publishing an article: the write and its event cannot be separated (news service, real servers)."""
from datetime import datetime, timedelta, timezone

import pytest
from nameko.testing.services import entrypoint_hook

from news.service import NewsService
from portal_common.events import catalogue, iso_utc, new_event
from portal_common.mongo import make_client
from portal_common.settings import get_settings

ARTICLE = {
    "title": "Hội nghị tuyên vận xã Bảo Nhai, huyện Bắc Hà",
    "summary": "Quang cảnh hội nghị.",
    "body_html": "<p>Nội dung <script>alert(1)</script><a href=\"javascript:alert(1)\">x</a></p>",
    "category": "ban-tuyen-giao",
    "credits": "Bài: Tiến Sỹ; Ảnh: Đồng Hồng - PT",
}


@pytest.fixture
def newsroom(start_service):
    """A running news service with the seed page's two categories."""
    container = start_service(NewsService)
    with entrypoint_hook(container, "ensure_category") as ensure:
        ensure({"slug": "tin-tuc-su-kien", "name": "Tin tức - Sự kiện"})
        ensure({"slug": "ban-tuyen-giao", "name": "Ban Tuyên giáo", "parent": "tin-tuc-su-kien"})
    return container


def _draft(container):
    with entrypoint_hook(container, "create_article") as create:
        return create(ARTICLE, "editor1")


def _collection(name):
    return make_client("test")[get_settings().database_name("news")][name]


def _pending_events():
    return _collection("revisions").count_documents({"outbox.event_id": {"$exists": True}})


def test_publishing_emits_one_valid_article_published_and_empties_the_outbox(newsroom, bus):
    bus.listen("news")
    container = newsroom
    draft = _draft(container)
    with entrypoint_hook(container, "publish_article") as publish:
        published = publish(draft["id"], "editor1")

    events = bus.collect(count=2, timeout=3)
    assert len(events) == 1
    event = events[0]
    catalogue.validate(event)
    assert event["type"] == "article_published" and event["source"] == "news"
    assert event["data"]["article_id"] == draft["id"]
    assert event["data"]["category"] == {"slug": "ban-tuyen-giao", "name": "Ban Tuyên giáo"}
    assert event["data"]["revision"] == published["revision"] == 2
    assert _pending_events() == 0


def test_publishing_twice_changes_nothing_and_emits_nothing_more(newsroom, bus):
    bus.listen("news")
    container = newsroom
    draft = _draft(container)
    with entrypoint_hook(container, "publish_article") as publish:
        first = publish(draft["id"], "editor1")
        second = publish(draft["id"], "editor1")
    assert first == second
    assert len(bus.collect(count=2, timeout=3)) == 1


def test_an_event_left_in_an_outbox_by_a_crash_is_published_by_the_sweep(newsroom, bus):
    """Simulates a process that died after its write and before its relay."""
    bus.listen("news")
    container = newsroom
    draft = _draft(container)
    stranded = new_event("news", "article_published", {
        "article_id": draft["id"], "slug": draft["slug"], "title": draft["title"],
        "summary": "", "body_text": "Nội dung", "category": {"slug": "ban-tuyen-giao",
                                                             "name": "Ban Tuyên giáo"},
        "published_at": "2026-01-01T00:00:00.000Z", "revision": 2})
    stranded["occurred_at"] = iso_utc(datetime.now(timezone.utc) - timedelta(minutes=1))
    # the process died after the article update, before publishing: an applied revision
    # record still holds the event
    _collection("revisions").update_one({"_id": f"{draft['id']}:0000001"},
                                        {"$push": {"outbox": stranded}})

    with entrypoint_hook(container, "relay_outbox") as sweep:
        sweep()

    events = bus.collect(count=1, timeout=5)
    assert [e["event_id"] for e in events] == [stranded["event_id"]]
    assert _pending_events() == 0


def test_a_claim_left_by_a_writer_that_died_is_dropped_and_its_event_never_sent(newsroom, bus):
    """Simulates a process that claimed revision 2 (with its event) and died before updating
    the article: the article never changed, so nothing may be announced."""
    bus.listen("news")
    draft = _draft(newsroom)
    old = datetime.now(timezone.utc) - timedelta(minutes=5)
    _collection("revisions").insert_one({
        "_id": f"{draft['id']}:0000002", "article_id": draft["id"], "revision": 2,
        "action": "published", "by": "ghost", "at": iso_utc(old), "changes": [],
        "outbox": [new_event("news", "article_published", {
            "article_id": draft["id"], "slug": draft["slug"], "title": draft["title"],
            "summary": "", "body_text": "x", "category": {"slug": "ban-tuyen-giao",
                                                         "name": "Ban Tuyên giáo"},
            "published_at": iso_utc(old), "revision": 2})],
        "applied": False, "claimed_at": old})

    with entrypoint_hook(newsroom, "relay_outbox") as sweep:
        sweep()
    assert bus.collect(count=1, timeout=1) == []
    assert _collection("revisions").find_one({"_id": f"{draft['id']}:0000002"}) is None
    # and the next real change takes revision 2
    with entrypoint_hook(newsroom, "publish_article") as publish:
        assert publish(draft["id"], "editor1")["revision"] == 2
    assert [e["data"]["revision"] for e in bus.collect(count=1, timeout=3)] == [2]


def test_article_html_is_sanitised_and_slugs_are_readable_ascii_and_unique(newsroom):
    first, second = _draft(newsroom), _draft(newsroom)
    assert first["slug"] == "hoi-nghi-tuyen-van-xa-bao-nhai-huyen-bac-ha"
    assert second["slug"] == "hoi-nghi-tuyen-van-xa-bao-nhai-huyen-bac-ha-2"
    assert "<script" not in first["body_html"] and "javascript:" not in first["body_html"]
    assert first["breadcrumb"] == [{"slug": "tin-tuc-su-kien", "name": "Tin tức - Sự kiện"},
                                   {"slug": "ban-tuyen-giao", "name": "Ban Tuyên giáo"}]
