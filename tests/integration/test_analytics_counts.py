"""Analytics counts exactly, on the real broker and the MongoDB-protocol server (FerretDB
locally): page views in batches, unique visitors, series, statistics from other services'
events, and no figure moves when the same events are published again."""
from datetime import datetime, timedelta, timezone

from nameko.testing.services import entrypoint_hook

from analytics.service import AnalyticsService
from analytics.visits import LOCAL_TZ, VisitStore
from portal_common.events import iso_utc, new_event, utc_now_iso
from tests.bus import wait_until


def _view(path, visitor="a" * 32, referrer=None, viewed_at=None):
    return new_event("gateway", "page_viewed", {
        "path": path, "referrer": referrer, "title": None, "visitor": visitor,
        "viewed_at": viewed_at or utc_now_iso()})


def _call(container, method, *args):
    with entrypoint_hook(container, method) as call:
        return call(*args)


def _today():
    return datetime.now(timezone.utc).astimezone(LOCAL_TZ).date().isoformat()


def _everything(container):
    day = _today()
    return _call(container, "visitors"), _call(container, "summary", day, day)


def test_page_views_are_rolled_up_per_day_hour_path_referrer_and_visitor(start_service, bus):
    container = start_service(AnalyticsService)
    events = ([_view("/tin-tuc", "a" * 32, "https://www.google.com/search?q=ldld")] * 1
              + [_view("/tin-tuc", "b" * 32, "https://facebook.com/x") for _ in range(3)]
              + [_view("/van-ban/100-kl-tw", "a" * 32) for _ in range(2)])
    for event in events:
        bus.publish(event)

    assert wait_until(lambda: _call(container, "visitors")["total"] == 6, timeout=15)
    # online is counted by a timer (every ONLINE_REFRESH_S): it follows within seconds
    assert wait_until(lambda: _call(container, "visitors") == {
        "total": 6, "today": 6, "today_visitors": 2, "online": 2}, timeout=15)
    visitors, summary = _everything(container)
    assert visitors == {"total": 6, "today": 6, "today_visitors": 2, "online": 2}
    assert summary["views"] == 6 and summary["visitors"] == 2
    assert summary["top_pages"] == [{"path": "/tin-tuc", "views": 4},
                                    {"path": "/van-ban/100-kl-tw", "views": 2}]
    assert sorted((r["host"], r["views"]) for r in summary["referrers"]) == [
        ("(direct)", 2), ("facebook.com", 3), ("google.com", 1)]
    assert sum(h["views"] for h in summary["hours"]) == 6 and len(summary["hours"]) == 24
    assert summary["days"] == [{"date": _today(), "views": 6, "visitors": 2}]


def test_republishing_the_same_events_changes_no_figure(start_service, bus):
    container = start_service(AnalyticsService)
    events = [_view(f"/trang-{i % 7}", f"{i % 5:032x}") for i in range(120)]
    for event in events:
        bus.publish(event)
    assert wait_until(lambda: _call(container, "visitors")["total"] == 120, timeout=20)
    before = _everything(container)

    for event in events + events[:40]:  # all again, some a third time, in other batches
        bus.publish(event)
    marker = _view("/sau-khi-gui-lai", f"{0:032x}")  # counted after the replays: they were all consumed
    bus.publish(marker)
    assert wait_until(lambda: _call(container, "visitors")["total"] == 121, timeout=20)
    after = _everything(container)
    assert after[0]["total"] == before[0]["total"] + 1
    assert after[0]["today_visitors"] == before[0]["today_visitors"] == 5
    assert after[1]["views"] == before[1]["views"] + 1
    assert {p["path"]: p["views"] for p in after[1]["top_pages"]
            if p["path"] != "/sau-khi-gui-lai"} == {p["path"]: p["views"]
                                                     for p in before[1]["top_pages"]}


def test_a_batch_a_crash_left_half_applied_is_finished_once(namespace):
    """The crash is simulated by running the steps of a batch up to a point, then recovery."""
    from portal_common.mongo import make_client
    from portal_common.settings import get_settings

    client = make_client("test")
    store = VisitStore(client[get_settings().database_name("analytics")])
    now = datetime.now(timezone.utc)
    events = [_view("/mot", "c" * 32), _view("/hai", "d" * 32)]
    store.record_batch(events[:1], now=now)  # a normal batch

    # a second batch "crashes" after its hits, its visitor and its day counter were written
    day = now.astimezone(LOCAL_TZ).strftime("%Y-%m-%d")
    store.batches.insert_one({"_id": "crashed", "days": [day],
                              "created_at": now - timedelta(minutes=30)})
    store.hits(day).insert_one({"_id": events[1]["event_id"], "path": "/hai",
                                "referrer": "(direct)", "visitor": "d" * 32, "viewed_at": now,
                                "batch": "crashed"})
    store.day_visitors(day).insert_one({"_id": "d" * 32, "batch": "crashed"})
    store._increment_once(f"day:{day}", "crashed", {"views": 1, "visitors": 1})

    assert store.record_batch(events[1:], now=now)["counted"] == 0  # its redelivery: owned
    assert store.recover(now=now) == 1
    assert store.recover(now=now + timedelta(hours=1)) == 0  # done: never applied again
    figures = store.visitors(now=now)
    assert (figures["total"], figures["today"], figures["today_visitors"]) == (2, 2, 2)
    client.close()


def test_statistics_count_articles_documents_and_feedback_once_each(start_service, bus):
    container = start_service(AnalyticsService)
    month = datetime.now(timezone.utc).astimezone(LOCAL_TZ).strftime("%Y-%m")
    now = utc_now_iso()
    article = new_event("news", "article_published", {
        "article_id": "a1", "slug": "ket-luan-100", "title": "Kết luận 100", "summary": "",
        "body_text": "…", "category": {"slug": "ban-tuyen-giao", "name": "Ban Tuyên giáo"},
        "published_at": now, "revision": 1})
    document = new_event("documents", "document_indexed", {
        "document_id": "d1", "number": "39-CT/TU", "type": "Chỉ thị", "title": "Chỉ thị 39",
        "issued_date": "2014-03-25"})
    received = [new_event("feedback", "feedback_received", {
        "feedback_id": f"f{i}", "tracking_code": f"PA-{i}", "kind": "feedback",
        "topic": "tien-luong", "unit": "ldld-bat-xat", "received_at": now}) for i in range(3)]
    answered = new_event("feedback", "feedback_status_changed", {
        "feedback_id": "f0", "status": "answered", "previous_status": "in_progress",
        "topic": "tien-luong", "unit": "ldld-bat-xat", "changed_at": now})
    closed_later = new_event("feedback", "feedback_status_changed", {
        "feedback_id": "f0", "status": "closed", "previous_status": "answered",
        "topic": "tien-luong", "unit": "ldld-bat-xat", "changed_at": now})
    in_progress = new_event("feedback", "feedback_status_changed", {
        "feedback_id": "f1", "status": "in_progress", "previous_status": "assigned",
        "topic": "tien-luong", "unit": "ldld-bat-xat", "changed_at": now})
    everything = [article, document, *received, answered, closed_later, in_progress]
    for event in everything + everything:  # each twice
        bus.publish(event)
    # a second publication of the same article (a new event for the same article)
    bus.publish({**article, "event_id": new_event("news", "article_published", {})["event_id"]})

    expected = {
        "articles_published": [{"month": month, "category": "ban-tuyen-giao", "count": 1}],
        "documents_indexed": [{"month": month, "type": "Chỉ thị", "count": 1}],
        "feedback": [{"month": month, "topic": "tien-luong", "unit": "ldld-bat-xat",
                      "received": 3, "resolved": 1}],
    }

    def figures():
        summary = _call(container, "summary", _today(), _today())
        return {key: summary[key] for key in expected}

    assert wait_until(lambda: figures() == expected, timeout=20), figures()
    assert not wait_until(lambda: figures() != expected, timeout=2)


def test_late_events_beyond_the_retention_are_not_counted(namespace):
    from portal_common.mongo import make_client
    from portal_common.settings import get_settings

    client = make_client("test")
    store = VisitStore(client[get_settings().database_name("analytics")])
    long_ago = iso_utc(datetime.now(timezone.utc) - timedelta(days=45))
    assert store.record_batch([_view("/cu", viewed_at=long_ago)]) == {
        "counted": 0, "duplicates": 0, "late": 1}
    client.close()


def test_batches_stored_at_the_same_time_lose_no_count(namespace):
    """Several workers store batches at once (the consumer pipelines them): every view and
    every visitor is counted exactly once, on FerretDB as on MongoDB."""
    import eventlet

    from portal_common.mongo import make_client
    from portal_common.settings import get_settings

    client = make_client("test")
    store = VisitStore(client[get_settings().database_name("analytics")])
    batches = [[_view(f"/trang-{i % 3}", f"{(b * 7 + i) % 40:032x}") for i in range(25)]
               for b in range(16)]
    pool = eventlet.GreenPool(8)
    for batch in batches:
        pool.spawn_n(store.record_batch, batch)
    pool.waitall()
    figures = store.visitors()
    assert (figures["total"], figures["today"], figures["today_visitors"]) == (400, 400, 40)
    day = _today()
    summary = store.summary(*(datetime.fromisoformat(day).date(),) * 2)
    assert sorted(p["views"] for p in summary["top_pages"]) == [128, 128, 144]
    client.close()


def test_online_is_read_from_the_last_count_and_counted_again_when_that_is_stale(namespace):
    from analytics.visits import ONLINE_STALE
    from portal_common.mongo import make_client
    from portal_common.settings import get_settings

    store = VisitStore(make_client("test")[get_settings().database_name("analytics")])
    now = datetime.now(timezone.utc)
    store.record_batch([_view("/", "c" * 32), _view("/", "d" * 32)], now=now)
    assert store.visitors(now)["online"] == 2          # no count yet: made by the reader
    store.record_batch([_view("/", "e" * 32)], now=now)
    assert store.visitors(now)["online"] == 2          # the count of a moment ago
    assert store.refresh_online(now) == 3              # the timer's next count
    assert store.visitors(now)["online"] == 3
    store.record_batch([_view("/", "f" * 32)], now=now)
    later = now + ONLINE_STALE + timedelta(seconds=1)  # the timer stopped: the reader counts
    assert store.visitors(later)["online"] == 4
