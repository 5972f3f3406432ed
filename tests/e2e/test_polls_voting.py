"""Polls through the gateway: the seed's poll, one vote per visitor and per account, results
with percentages (hidden until close when asked), the voting window, staff creation, events."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from portal_common.events import iso_utc
from tests.bus import Bus, wait_until

SEED_QUESTION = "Bạn quan tâm mục gì nhất trong website của chúng tôi?"


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def _browser():
    """A browser nobody used yet (a new visitor, since every test client is 127.0.0.1)."""
    return {"User-Agent": f"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 "
                          f"Firefox/128.{uuid.uuid4().int % 10_000}"}


def _create(api, token, **fields):
    body = {"question": f"Câu hỏi {uuid.uuid4().hex[:6]}?", "options": ["Có", "Không", "Chưa rõ"],
            **fields}
    response = api.post("/api/v1/polls", json=body, headers=_auth(token))
    assert response.status_code == 201, response.text
    return response.json()


def _results(api, poll_id, **headers):
    response = api.get(f"/api/v1/polls/{poll_id}/results", headers=headers)
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def bus(platform):
    bus = Bus(platform.env["AMQP_URI"])
    yield bus
    bus.close()


def test_the_seed_poll_is_listed_with_its_two_options(api):
    listed = api.get("/api/v1/polls").json()
    seed = next(p for p in listed["items"] if p["question"] == SEED_QUESTION)
    assert [o["label"] for o in seed["options"]] == ["Tin Tức - Sự Kiện", "Tra cứu văn bản"]
    assert seed["status"] == "open"
    assert api.get(f"/api/v1/polls/{seed['id']}").json() == seed
    assert {"page", "per_page", "total"} <= set(listed)


def test_a_visitor_votes_once_and_the_vote_is_announced(api, admin_token, bus):
    bus.listen("analytics", "poll_vote_recorded")
    poll = _create(api, admin_token)
    me = _browser()
    first = api.post(f"/api/v1/polls/{poll['id']}/votes", json={"option_id": "o2"}, headers=me)
    assert first.status_code == 201 and first.json()["option_id"] == "o2"
    again = api.post(f"/api/v1/polls/{poll['id']}/votes", json={"option_id": "o1"}, headers=me)
    assert again.status_code == 409
    assert again.headers["Content-Type"] == "application/problem+json"
    other = api.post(f"/api/v1/polls/{poll['id']}/votes", json={"option_id": "o2"},
                     headers=_browser())
    assert other.status_code == 201

    events = bus.collect(2, timeout=15)
    assert [(e["data"]["poll_id"], e["data"]["option_id"]) for e in events] == [
        (poll["id"], "o2"), (poll["id"], "o2")]
    assert all(e["source"] == "analytics" and e["data"]["signed_in"] is False for e in events)

    results = wait_until(lambda: (r := _results(api, poll["id"]))["total_votes"] == 2 and r,
                         timeout=35)  # public results are cached up to 30 s without an event
    assert results["options"] == [
        {"id": "o1", "label": "Có", "votes": 0, "percent": 0.0},
        {"id": "o2", "label": "Không", "votes": 2, "percent": 100.0},
        {"id": "o3", "label": "Chưa rõ", "votes": 0, "percent": 0.0}]


def test_a_signed_in_account_votes_once_whatever_browser_it_uses(api, admin_token):
    poll = _create(api, admin_token)
    laptop, phone = _browser(), _browser()
    signed_in = {**laptop, **_auth(admin_token)}
    assert api.post(f"/api/v1/polls/{poll['id']}/votes", json={"option_id": "o1"},
                    headers=signed_in).status_code == 201
    assert api.post(f"/api/v1/polls/{poll['id']}/votes", json={"option_id": "o1"},
                    headers={**phone, **_auth(admin_token)}).status_code == 409
    # the same browser, signed out, is the same visitor
    assert api.post(f"/api/v1/polls/{poll['id']}/votes", json={"option_id": "o3"},
                    headers=laptop).status_code == 409
    bad_token = api.post(f"/api/v1/polls/{poll['id']}/votes", json={"option_id": "o1"},
                         headers={**phone, "Authorization": "Bearer not-a-token"})
    assert bad_token.status_code == 401


def test_percentages_are_shares_of_the_votes(api, admin_token):
    poll = _create(api, admin_token)
    for option in ("o1", "o1", "o2"):
        assert api.post(f"/api/v1/polls/{poll['id']}/votes", json={"option_id": option},
                        headers=_browser()).status_code == 201
    results = wait_until(lambda: (r := _results(api, poll["id"]))["total_votes"] == 3 and r,
                         timeout=35)
    assert [(o["votes"], o["percent"]) for o in results["options"]] == [
        (2, 66.7), (1, 33.3), (0, 0.0)]


def test_results_can_stay_hidden_until_the_poll_closes_except_for_editors(api, admin_token):
    poll = _create(api, admin_token, results_visibility="after_close")
    assert api.post(f"/api/v1/polls/{poll['id']}/votes", json={"option_id": "o1"},
                    headers=_browser()).status_code == 201
    public = _results(api, poll["id"])
    assert public["hidden"] is True and public["total_votes"] is None
    assert all(o["votes"] is None and o["percent"] is None for o in public["options"])
    staff = _results(api, poll["id"], **_auth(admin_token))
    assert staff["hidden"] is False and staff["total_votes"] == 1


def test_votes_outside_the_voting_window_are_conflicts(api, admin_token):
    now = datetime.now(timezone.utc)
    upcoming = _create(api, admin_token, opens_at=iso_utc(now + timedelta(days=1)))
    closed = _create(api, admin_token, opens_at=iso_utc(now - timedelta(days=2)),
                     closes_at=iso_utc(now - timedelta(days=1)), results_visibility="after_close")
    assert upcoming["status"] == "upcoming" and closed["status"] == "closed"
    for poll, reason in ((upcoming, "not opened"), (closed, "closed")):
        response = api.post(f"/api/v1/polls/{poll['id']}/votes", json={"option_id": "o1"},
                            headers=_browser())
        assert response.status_code == 409 and reason in response.json()["detail"]
    assert _results(api, closed["id"])["hidden"] is False  # closed: results are public


def test_bad_votes_and_bad_polls_are_clear_problems(api, admin_token):
    poll = _create(api, admin_token)
    unknown_option = api.post(f"/api/v1/polls/{poll['id']}/votes", json={"option_id": "o9"},
                              headers=_browser())
    assert unknown_option.status_code == 422
    assert unknown_option.json()["errors"][0]["field"] == "option_id"
    assert api.post("/api/v1/polls/khong-co/votes", json={"option_id": "o1"},
                    headers=_browser()).status_code == 404
    assert api.get("/api/v1/polls/khong-co/results").status_code == 404
    assert api.post(f"/api/v1/polls/{poll['id']}/votes", json={"option": "o1"},
                    headers=_browser()).status_code == 422

    assert api.post("/api/v1/polls", json={"question": "Hỏi?", "options": ["A", "B"]}
                    ).status_code == 401
    duplicate_options = api.post("/api/v1/polls", headers=_auth(admin_token),
                                 json={"question": "Hỏi gì?", "options": ["A", "a"]})
    assert duplicate_options.status_code == 422
    assert duplicate_options.json()["errors"][0]["field"] == "options"
    backwards = api.post("/api/v1/polls", headers=_auth(admin_token), json={
        "question": "Hỏi gì?", "options": ["A", "B"], "opens_at": "2026-12-02T00:00:00Z",
        "closes_at": "2026-12-01T00:00:00Z"})
    assert backwards.status_code == 422
