"""Visitor counting through the gateway, as the public site and leadership's dashboard use it:
beacons, unique visitors, bots, the staff summary and its CSV, statistics from other
services' events, and figures that do not move when the same events are published again."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timezone

import pytest

from portal_common.events import new_event, utc_now_iso
from portal_common.mongo import make_client
from portal_common.settings import Settings
from tests.bus import Bus, wait_until
from tests.e2e.conftest import BROWSER, settled_visitors

LOCAL_TZ = "Asia/Ho_Chi_Minh"
PHONE = ("Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/120.0.0.0 Mobile Safari/537.36")


def _today() -> str:
    from zoneinfo import ZoneInfo
    return datetime.now(timezone.utc).astimezone(ZoneInfo(LOCAL_TZ)).date().isoformat()


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def bus(platform):
    bus = Bus(platform.env["AMQP_URI"])
    yield bus
    bus.close()


def _visitors(api):
    response = api.get("/api/v1/analytics/visitors")  # cached for 2 s: callers poll
    assert response.status_code == 200
    return response.json()


def _summary(api, token, **params):
    params.setdefault("from", _today())
    params.setdefault("to", _today())
    response = api.get("/api/v1/analytics/summary", params=params, headers=_auth(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_beacons_count_views_unique_visitors_and_online_but_not_bots(api, admin_token):
    before = settled_visitors(api)
    path = f"/tin-tuc/ban-tuyen-giao/{uuid.uuid4().hex[:8]}"
    for user_agent in (PHONE, PHONE, BROWSER):
        response = api.post("/api/v1/analytics/hits", headers={"User-Agent": user_agent},
                            json={"path": path, "title": "Ban Tuyên giáo",
                                  "referrer": "https://www.google.com/search?q=cong+doan"})
        assert response.status_code == 202 and response.json()["accepted"] is True
    bot = api.post("/api/v1/analytics/hits", json={"path": path}, headers={
        "User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"})
    assert bot.status_code == 202 and bot.json() == {"accepted": False, "event_id": None}

    after = wait_until(lambda: (v := _visitors(api))["total"] == before["total"] + 3 and v,
                       timeout=20)
    assert after, "three beacons were not counted"
    assert after["today"] == before["today"] + 3
    # online is counted every few seconds (and the gateway keeps the counter 2 s)
    assert wait_until(lambda: _visitors(api)["online"] >= 2, timeout=20)
    assert not wait_until(lambda: _visitors(api)["total"] != after["total"], timeout=3)

    summary = _summary(api, admin_token)
    assert {"path": path, "views": 3} in summary["top_pages"]
    assert any(r["host"] == "google.com" and r["views"] >= 3 for r in summary["referrers"])
    assert summary["days"][0]["date"] == _today() and summary["days"][0]["views"] >= 3
    assert len(summary["hours"]) == 24 and sum(h["views"] for h in summary["hours"]) >= 3


def test_the_same_events_published_again_change_no_figure(platform, api, admin_token, bus):
    bus.listen("gateway", "page_viewed")
    before = settled_visitors(api)
    path = f"/van-ban/{uuid.uuid4().hex[:8]}"
    for _ in range(5):
        assert api.post("/api/v1/analytics/hits", json={"path": path}).status_code == 202
    events = bus.collect(5, timeout=15)
    assert len(events) == 5 and all(e["data"]["path"] == path for e in events)
    counted = wait_until(lambda: (v := _visitors(api))["total"] == before["total"] + 5 and v,
                         timeout=20)
    assert counted
    summary = _summary(api, admin_token)

    for event in events * 2:  # a republisher replays them all, twice
        bus.publish(event)
    marker = f"/sau-khi-gui-lai/{uuid.uuid4().hex[:8]}"
    assert api.post("/api/v1/analytics/hits", json={"path": marker}).status_code == 202
    assert wait_until(lambda: _visitors(api)["total"] == counted["total"] + 1, timeout=20)
    again = _summary(api, admin_token)
    assert {"path": path, "views": 5} in again["top_pages"]
    assert again["views"] == summary["views"] + 1
    assert again["visitors"] == summary["visitors"]  # the marker came from a known browser


def test_the_summary_is_for_staff_only_and_checks_its_range(platform, api, admin_token):
    assert api.get("/api/v1/analytics/summary").status_code == 401
    settings = Settings(_env_file=None, **{"PORTAL_NAMESPACE": platform.env["PORTAL_NAMESPACE"]})
    client = make_client("e2e", settings=settings)
    from gateway.accounts import Accounts
    Accounts(client[settings.database_name("gateway")]["users"], "x" * 32, 900).ensure_user(
        "ctv-analytics", "ctv-password-0123", ["collaborator"])
    client.close()
    token = api.post("/api/v1/auth/token", json={"username": "ctv-analytics",
                                                 "password": "ctv-password-0123"}).json()
    assert api.get("/api/v1/analytics/summary",
                   headers=_auth(token["access_token"])).status_code == 403

    for params, field in ((({"from": "2026-02-30"}), "from"),
                          ({"from": "2026-11-30", "to": "2026-11-01"}, None),
                          ({"from": "2024-01-01", "to": "2026-11-30"}, None),
                          ({"since": "2026-11-01"}, "since")):
        response = api.get("/api/v1/analytics/summary", params=params, headers=_auth(admin_token))
        assert response.status_code == 422, params
        assert response.headers["Content-Type"] == "application/problem+json"
        if field:
            assert field in str(response.json()["errors"])


def test_statistics_from_other_services_events_reach_the_summary_and_its_csv(
        platform, api, admin_token, bus):
    month = _today()[:7]
    topic, unit = f"tien-luong-{uuid.uuid4().hex[:6]}", "ldld-huyen-bat-xat"
    now = utc_now_iso()
    received = [new_event("feedback", "feedback_received", {
        "feedback_id": uuid.uuid4().hex, "tracking_code": f"PA-{i}", "kind": "question",
        "topic": topic, "unit": unit, "received_at": now}) for i in range(3)]
    answered = new_event("feedback", "feedback_status_changed", {
        "feedback_id": received[0]["data"]["feedback_id"], "status": "answered",
        "previous_status": "in_progress", "topic": topic, "unit": unit, "changed_at": now})
    for event in received + [answered, answered]:
        bus.publish(event)

    def row():
        rows = [r for r in _summary(api, admin_token)["feedback"] if r["topic"] == topic]
        return rows and rows[0]

    assert wait_until(lambda: row() == {"month": month, "topic": topic, "unit": unit,
                                        "received": 3, "resolved": 1}, timeout=20), row()
    # the demo article, imported by the bootstrap with its original date (18/01/2020), counts in
    # its category and in that month; it and the demo documents are counted from their events,
    # which this test may come right after (tests run in any order)
    def seed_articles():
        return _summary(api, admin_token, **{"from": "2020-01-01", "to": "2020-01-31"})[
            "articles_published"]

    assert wait_until(lambda: any(
        r["category"] == "ban-tuyen-giao" and r["month"] == "2020-01" and r["count"] >= 1
        for r in seed_articles()), timeout=20), seed_articles()

    def document_types():
        return {r["type"] for r in _summary(api, admin_token)["documents_indexed"]}

    assert wait_until(lambda: {"Kết luận", "Chỉ thị"} <= document_types(), timeout=20), \
        document_types()

    response = api.get("/api/v1/analytics/summary.csv", params={"from": _today(), "to": _today()},
                       headers=_auth(admin_token))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["metric", "period", "dimension", "value"]
    assert ["feedback_received", month, f"topic={topic};unit={unit}", "3"] in rows
    assert ["feedback_resolved", month, f"topic={topic};unit={unit}", "1"] in rows
    assert any(r[0] == "views" and r[1] == _today() for r in rows)


def test_the_visitor_salt_is_shared_kept_for_today_only_and_no_address_is_stored(platform, api):
    assert api.post("/api/v1/analytics/hits", json={"path": "/muoi"}).status_code == 202
    settings = Settings(_env_file=None, **{"PORTAL_NAMESPACE": platform.env["PORTAL_NAMESPACE"]})
    client = make_client("e2e", settings=settings)
    try:
        salts = list(client[settings.database_name("gateway")]["visitor_salts"].find())
        assert [s["_id"] for s in salts] == [_today()] and len(salts[0]["salt"]) == 64
        analytics = client[settings.database_name("analytics")]
        hits = analytics[f"hits_{_today().replace('-', '')}"]
        assert wait_until(lambda: hits.find_one({"path": "/muoi"}), timeout=15)

        def names():  # the batch writes its visitors after its hits
            return [n for n in analytics.list_collection_names()
                    if n.startswith(("hits_", "visitors_", "online_"))]

        assert wait_until(lambda: len(names()) >= 3, timeout=15), names()
        for name in names():
            for doc in analytics[name].find().limit(50):
                assert "127.0.0.1" not in str(doc) and "Firefox" not in str(doc)
    finally:
        client.close()

