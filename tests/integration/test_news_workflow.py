"""The newsroom's rules, against the real servers: categories, slugs, the publishing workflow,
revisions, scheduling, related articles, the most-read list and the events each step emits."""
import time
from datetime import datetime, timedelta, timezone

import pytest

from portal_common.errors import Conflict, Invalid, NotFound
from portal_common.events import catalogue, new_event
from tests.bus import wait_until
from tests.integration.newsroom import newsroom  # noqa: F401  (fixture)


def test_categories_come_in_tree_order_with_their_depth(newsroom):
    names = [(c["slug"], c["depth"]) for c in newsroom.list_categories()]
    assert names == [("tin-tuc-su-kien", 0), ("ban-tuyen-giao", 1), ("ban-to-chuc", 1)]


def test_a_category_cannot_become_its_own_ancestor(newsroom):
    with pytest.raises(Invalid) as caught:
        newsroom.ensure_category({"slug": "tin-tuc-su-kien", "name": "Tin tức - Sự kiện",
                                  "parent": "ban-tuyen-giao"})
    assert caught.value.errors[0]["field"] == "parent"


def test_a_category_with_articles_or_children_is_not_deleted(newsroom):
    newsroom.draft(category="ban-to-chuc")
    with pytest.raises(Conflict):
        newsroom.delete_category("ban-to-chuc")
    with pytest.raises(Conflict):
        newsroom.delete_category("tin-tuc-su-kien")
    newsroom.ensure_category({"slug": "trong", "name": "Trống"})
    newsroom.delete_category("trong")
    assert "trong" not in [c["slug"] for c in newsroom.list_categories()]


def test_an_article_names_its_breadcrumb_and_byline(newsroom):
    article = newsroom.published(credits="Bài: Tiến Sỹ; Ảnh: Đồng Hồng - PT",
                                 source_unit="LĐLĐ tỉnh Lào Cai")
    page = newsroom.get_article(article["slug"])
    assert [c["name"] for c in page["breadcrumb"]] == ["Tin tức - Sự kiện", "Ban Tuyên giáo"]
    assert page["byline"] == {"author": "Tiến Sỹ", "photo": "Đồng Hồng - PT"}
    assert page["source_unit"] == "LĐLĐ tỉnh Lào Cai"


def test_slug_clashes_get_a_suffix_and_reserved_words_are_avoided(newsroom):
    first = newsroom.draft("Đại hội Công đoàn tỉnh")
    second = newsroom.draft("Đại hội Công đoàn tỉnh")
    assert first["slug"] == "dai-hoi-cong-doan-tinh"
    assert second["slug"] == "dai-hoi-cong-doan-tinh-2"
    reserved = newsroom.draft("Most read")
    assert reserved["slug"] == "most-read-bai"


def test_a_drafts_slug_follows_its_title_and_is_frozen_once_published(newsroom):
    draft = newsroom.draft("Hội nghị sơ kết")
    renamed = newsroom.update_article(draft["id"], {"title": "Hội nghị tổng kết năm"}, "editor2")
    assert renamed["slug"] == "hoi-nghi-tong-ket-nam"
    newsroom.publish_article(draft["id"], "editor2")
    retitled = newsroom.update_article(draft["id"], {"title": "Hội nghị tổng kết năm 2020"}, "e")
    assert retitled["slug"] == "hoi-nghi-tong-ket-nam"
    with pytest.raises(Conflict):
        newsroom.update_article(draft["id"], {"slug": "khac"}, "editor2")


def test_the_body_is_sanitised_on_every_write(newsroom):
    draft = newsroom.draft(body_html='<p onclick="x()">a</p><script>alert(1)</script>')
    changed = newsroom.update_article(draft["id"], {
        "body_html": '<figure><img src="/api/v1/media/x/large" onerror="steal()">'
                     '<figcaption>Quang cảnh Hội nghị</figcaption></figure>'
                     '<a href="javascript:alert(1)">x</a>'}, "editor1")
    body = newsroom.get_article_by_id(changed["id"])["body_html"]
    assert "onerror" not in body and "javascript:" not in body
    assert "<figcaption>Quang cảnh Hội nghị</figcaption>" in body


def test_every_change_is_kept_as_a_revision_with_who_when_and_what(newsroom):
    draft = newsroom.draft("Tập huấn nghiệp vụ công đoàn")
    newsroom.update_article(draft["id"], {"summary": "Tóm tắt mới", "tags": ["tập huấn"]}, "bien-tap-2")
    newsroom.publish_article(draft["id"], "truong-ban")
    newsroom.unpublish_article(draft["id"], "truong-ban")
    history = newsroom.list_revisions(draft["id"])
    assert history["total"] == 4
    assert [(r["revision"], r["action"], r["by"]) for r in history["items"]] == [
        (4, "unpublished", "truong-ban"), (3, "published", "truong-ban"),
        (2, "updated", "bien-tap-2"), (1, "created", "editor1")]
    update = history["items"][2]
    assert {c["field"]: (c["before"], c["after"]) for c in update["changes"]} == {
        "summary": ("", "Tóm tắt mới"), "tags": ([], ["tập huấn"])}
    assert update["at"].endswith("Z")
    # the event of each revision was published and removed from its record
    assert newsroom.database()["revisions"].count_documents({"outbox.event_id": {"$exists": True}}) == 0


def test_a_change_based_on_an_old_revision_is_refused(newsroom):
    draft = newsroom.draft()
    newsroom.update_article(draft["id"], {"summary": "một"}, "a")
    with pytest.raises(Conflict):
        newsroom.update_article(draft["id"], {"summary": "hai", "expected_revision": 1}, "b")


def test_workflow_emits_published_updated_and_unpublished_through_the_outbox(newsroom, bus):
    bus.listen("news")
    article = newsroom.published("Đối thoại với công nhân")
    newsroom.update_article(article["id"], {"summary": "Lắng nghe người lao động"}, "editor1")
    newsroom.update_article(article["id"], {"summary": "Lắng nghe người lao động"}, "editor1")
    newsroom.unpublish_article(article["id"], "editor1")
    newsroom.publish_article(article["id"], "editor1")
    events = bus.collect(count=5, timeout=3)
    for event in events:
        catalogue.validate(event)
    assert [e["type"] for e in events] == ["article_published", "article_updated",
                                           "article_unpublished", "article_published"]
    assert [e["data"]["revision"] for e in events] == [2, 3, 4, 5]
    assert events[1]["data"]["summary"] == "Lắng nghe người lao động"
    assert events[2]["data"]["slug"] == article["slug"]
    # published again: same slug, same date
    assert events[3]["data"]["published_at"] == events[0]["data"]["published_at"]
    assert newsroom.database()["revisions"].count_documents({"outbox.event_id": {"$exists": True}}) == 0


def test_an_unpublished_article_is_gone_from_the_public_reads(newsroom):
    article = newsroom.published()
    newsroom.unpublish_article(article["id"], "editor1")
    with pytest.raises(NotFound):
        newsroom.get_article(article["slug"])
    assert newsroom.list_articles("ban-tuyen-giao")["total"] == 0


def test_deleting_a_published_article_is_refused_until_it_is_unpublished(newsroom):
    article = newsroom.published()
    with pytest.raises(Conflict):
        newsroom.delete_article(article["id"], "editor1")
    newsroom.unpublish_article(article["id"], "editor1")
    deleted = newsroom.delete_article(article["slug"], "editor1")  # by slug works too
    assert deleted["status"] == "deleted"
    assert newsroom.list_articles_for_staff()["total"] == 0
    assert newsroom.list_revisions(article["id"])["items"][0]["action"] == "deleted"
    with pytest.raises(Conflict):
        newsroom.publish_article(article["id"], "editor1")
    # its slug stays taken: an old link never leads to a different article
    assert newsroom.draft()["slug"] != article["slug"]


def test_a_scheduled_article_is_published_by_the_timer_once(newsroom, bus):
    bus.listen("news")
    draft = newsroom.draft("Kế hoạch tháng công nhân")
    when = datetime.now(timezone.utc) + timedelta(seconds=1)
    scheduled = newsroom.schedule_article(draft["id"], {"publish_at": when.isoformat()}, "editor1")
    assert scheduled["status"] == "scheduled" and scheduled["publish_at"]
    with pytest.raises(NotFound):
        newsroom.get_article(draft["slug"])
    # the service's own timer publishes it (every few seconds); a second run finds nothing due
    assert wait_until(lambda: newsroom.get_article_by_id(draft["id"])["status"] == "published",
                      timeout=15)
    newsroom.publish_due()
    # the timer relays the event after the write seen above: wait for it, then for a second
    events = bus.collect(count=1, timeout=15)
    events += bus.collect(count=1, timeout=2)
    assert [e["type"] for e in events] == ["article_published"]
    assert newsroom.list_revisions(draft["id"])["items"][0]["by"] == "scheduler"


def test_two_instances_racing_for_a_due_article_publish_it_once(newsroom, start_service, bus):
    from news.service import NewsService
    from tests.integration.newsroom import Newsroom

    other = Newsroom(start_service(NewsService))
    bus.listen("news")
    drafts = [newsroom.draft(f"Tin số {n}") for n in range(6)]
    when = datetime.now(timezone.utc) + timedelta(milliseconds=300)
    for draft in drafts:
        newsroom.schedule_article(draft["id"], {"publish_at": when.isoformat()}, "editor1")
    time.sleep(0.4)
    import eventlet
    pool = eventlet.GreenPool()
    for room in (newsroom, other, newsroom, other):
        pool.spawn(room.publish_due)
    pool.waitall()
    # a service's own timer may have published some of them and still be relaying the event:
    # wait for all six, then long enough for any seventh
    events = bus.collect(count=6, timeout=15)
    events += bus.collect(count=6, timeout=3)
    assert sorted(e["data"]["article_id"] for e in events) == sorted(d["id"] for d in drafts)


def test_scheduling_in_the_past_or_a_published_article_is_refused(newsroom):
    draft = newsroom.draft()
    with pytest.raises(Invalid) as caught:
        newsroom.schedule_article(draft["id"], {"publish_at": "2020-01-18T07:00:00+07:00"}, "e")
    assert caught.value.errors[0]["field"] == "publish_at"
    with pytest.raises(Invalid):
        newsroom.schedule_article(draft["id"], {"publish_at": "2030-01-18T07:00:00"}, "e")  # no zone
    newsroom.publish_article(draft["id"], "e")
    with pytest.raises(Conflict):
        newsroom.schedule_article(draft["id"], {"publish_at": "2030-01-18T07:00:00Z"}, "e")


def test_unpublishing_a_scheduled_article_cancels_the_schedule(newsroom):
    draft = newsroom.draft()
    newsroom.schedule_article(draft["id"], {"publish_at": "2030-01-18T07:00:00Z"}, "e")
    cancelled = newsroom.unpublish_article(draft["id"], "e")
    assert cancelled["status"] == "draft" and cancelled["publish_at"] is None


def test_related_are_the_nearest_published_articles_of_the_category(newsroom):
    articles = [newsroom.published(f"Tin thứ {n}") for n in range(8)]
    newsroom.published("Tin của ban khác", category="ban-to-chuc")
    hidden = newsroom.published("Tin đã gỡ")
    newsroom.unpublish_article(hidden["id"], "e")
    page = newsroom.get_article(articles[4]["slug"])
    related = [r["id"] for r in page["related"]]
    assert len(related) == 5 and articles[4]["id"] not in related
    assert hidden["id"] not in related
    assert set(related) <= {a["id"] for a in articles}
    assert articles[3]["id"] in related and articles[5]["id"] in related


def test_a_parent_category_lists_the_news_of_its_sub_categories(newsroom):
    newsroom.published("Tin tuyên giáo")
    newsroom.published("Tin tổ chức", category="ban-to-chuc")
    assert newsroom.list_articles("tin-tuc-su-kien")["total"] == 2
    assert newsroom.list_articles("ban-to-chuc")["total"] == 1
    with pytest.raises(Invalid):
        newsroom.list_articles("khong-co")


def _viewed(path, event_id=None):
    event = new_event("gateway", "page_viewed", {
        "path": path, "viewed_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")})
    return event


def test_page_views_of_articles_feed_the_most_read_list_once_per_event(newsroom, bus):
    popular = newsroom.published("Tin được đọc nhiều")
    other = newsroom.published("Tin ít người đọc")
    events = [_viewed(f"/tin-tuc/ban-tuyen-giao/{popular['slug']}") for _ in range(3)]
    events += [_viewed(f"/news/{other['slug']}.html"), _viewed("/tra-cuu-van-ban")]
    for event in events + events[:2]:  # two redelivered
        bus.publish(event)

    def ranked():
        items = newsroom.most_read()["items"]
        return [(i["id"], i["views"]) for i in items]

    expected = [(popular["id"], 3), (other["id"], 1)]
    assert wait_until(lambda: ranked() == expected, timeout=10), ranked()
    time.sleep(0.5)
    assert ranked() == expected
    assert newsroom.get_article_by_id(popular["id"])["views"] == 3
