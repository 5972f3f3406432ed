"""Public answers are cached in the gateway, revalidated by ETag, and dropped when an event
arrives on the source's exchange (real RabbitMQ: the test's own vhost)."""
import threading
import time

import pytest
from flask import Flask, jsonify

from gateway.caching import ResponseCache, cached
from portal_common.events import new_event
from tests.bus import wait_until

CLOSED = "amqp://guest:guest@127.0.0.1:9/"


def _app(amqp_uri: str, state: dict) -> Flask:
    app = Flask(__name__)
    app.extensions["response_cache"] = ResponseCache(amqp_uri)

    @app.get("/headline")
    @cached("news")
    def headline():
        state["computed"] += 1
        return jsonify(title=state["title"])

    # the ttls are seconds long: a test's steps between two reads of one answer must fit in
    # them even on a loaded machine (where a step can stall for a second or more)
    @app.get("/counter")
    @cached(ttl=1.0)
    def counter():
        state["computed"] += 1
        return jsonify(value=state["computed"])

    @app.get("/slow")
    @cached(ttl=30)
    def slow():
        return _slow(state)

    @app.get("/slow-counter")
    @cached(ttl=2.0)
    def slow_counter():
        return _slow(state)

    @app.get("/flaky-counter")
    @cached(ttl=2.0)
    def flaky_counter():
        state["computed"] += 1
        if state.get("down"):
            return jsonify(detail="service unavailable"), 503
        return jsonify(value=state["computed"])

    return app


def _slow(state: dict):
    """A view that takes until the test releases it (the first call may fail, if asked)."""
    with state["lock"]:
        state["computed"] += 1
        computed = state["computed"]
    state["started"].set()
    state["release"].wait(10)
    if state.get("fail_first") and computed == 1:
        return jsonify(detail="service unavailable"), 503
    return jsonify(value=computed)


@pytest.fixture
def state():
    return {"title": "Hội nghị", "computed": 0, "lock": threading.Lock(),
            "started": threading.Event(), "release": threading.Event()}


def _concurrently(app, path: str, count: int, state: dict) -> list:
    answers = []

    def get():
        answers.append(app.test_client().get(path))

    threads = [threading.Thread(target=get) for _ in range(count)]
    threads[0].start()
    assert state["started"].wait(5)  # the first miss is being computed
    for thread in threads[1:]:
        thread.start()
    time.sleep(0.3)  # the others are waiting for it
    state["release"].set()
    for thread in threads:
        thread.join(15)
    return answers


def test_concurrent_misses_of_one_answer_are_computed_once(state):
    app = _app(CLOSED, state)  # a ttl answer: cached without the broker
    answers = _concurrently(app, "/slow", 8, state)
    assert [a.status_code for a in answers] == [200] * 8
    assert {a.json["value"] for a in answers} == {1} and state["computed"] == 1
    app.extensions["response_cache"].stop()


def test_a_time_limited_answer_past_its_ttl_is_served_while_refreshed_in_the_background(state):
    app = _app(CLOSED, state)
    client = app.test_client()
    state["release"].set()
    assert client.get("/slow-counter").json == {"value": 1}
    time.sleep(2.1)  # expired, but within one more ttl
    state["release"].clear()
    state["started"].clear()
    answers = _concurrently(app, "/slow-counter", 4, state)
    # nobody waited for the refresh, not even the request that started it
    assert [a.json["value"] for a in answers] == [1, 1, 1, 1]
    assert wait_until(lambda: client.get("/slow-counter").json == {"value": 2}, timeout=5,
                      interval=0.02)
    assert state["computed"] == 2  # refreshed once
    app.extensions["response_cache"].stop()


def test_a_failed_refresh_keeps_the_previous_answer_until_it_is_two_ttls_old(state):
    app = _app(CLOSED, state)
    client = app.test_client()
    assert client.get("/flaky-counter").json == {"value": 1}
    state["down"] = True
    time.sleep(2.1)  # past the ttl: refreshed in the background, and the refresh fails
    assert client.get("/flaky-counter").json == {"value": 1}
    assert wait_until(lambda: state["computed"] >= 2, timeout=5, interval=0.01)
    assert client.get("/flaky-counter").json == {"value": 1}  # the failure was not stored
    time.sleep(2.0)  # two ttls old: computed in line, and the failure is the answer
    assert client.get("/flaky-counter").status_code == 503
    state["down"] = False
    assert client.get("/flaky-counter").status_code == 200
    app.extensions["response_cache"].stop()


def test_when_the_first_miss_fails_the_waiting_ones_compute_their_own_answer(state):
    state["fail_first"] = True
    app = _app(CLOSED, state)
    answers = _concurrently(app, "/slow", 4, state)
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 503]
    assert state["computed"] >= 2  # the failure was not shared: a waiting one computed again
    app.extensions["response_cache"].stop()


def test_an_answer_is_served_from_memory_until_an_event_of_its_source(rabbit_config, bus, state):
    app = _app(rabbit_config["AMQP_URI"], state)
    client = app.test_client()
    first = client.get("/headline")
    cache = app.extensions["response_cache"]
    assert wait_until(lambda: cache.listening, timeout=10)
    first = client.get("/headline")
    assert first.json == {"title": "Hội nghị"} and first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=0, must-revalidate"
    assert first.headers["Vary"] == "Authorization"
    computed = state["computed"]

    state["title"] = "Hội nghị tổng kết"
    again = client.get("/headline", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and state["computed"] == computed  # from memory

    bus.publish(new_event("news", "article_updated", {
        "article_id": "a1", "slug": "hoi-nghi", "title": "Hội nghị tổng kết", "summary": "",
        "body_text": "x", "category": {"slug": "ban-tuyen-giao", "name": "Ban Tuyên giáo"},
        "published_at": "2020-10-15T02:00:00.000Z", "revision": 2}))
    assert wait_until(lambda: client.get("/headline").json == {"title": "Hội nghị tổng kết"},
               timeout=20, interval=0.02)
    changed = client.get("/headline", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]
    cache.stop()


def test_requests_with_a_token_are_never_served_from_or_stored_in_memory(rabbit_config, state):
    app = _app(rabbit_config["AMQP_URI"], state)
    client = app.test_client()
    client.get("/headline")
    assert wait_until(lambda: app.extensions["response_cache"].listening, timeout=10)
    for _ in range(3):
        answer = client.get("/headline", headers={"Authorization": "Bearer x"})
        assert answer.headers["Cache-Control"] == "private, no-store"
        assert answer.headers["Vary"] == "Authorization"
    assert state["computed"] == 4
    app.extensions["response_cache"].stop()


def test_without_the_broker_nothing_is_served_from_memory(state):
    app = _app(CLOSED, state)
    client = app.test_client()
    for expected in range(1, 4):
        answer = client.get("/headline")
        assert answer.status_code == 200 and answer.headers["ETag"]
        assert state["computed"] == expected  # computed every time: no stale answer
    app.extensions["response_cache"].stop()


def test_a_time_limited_answer_is_recomputed_after_its_ttl(state):
    app = _app(CLOSED, state)
    client = app.test_client()
    assert client.get("/counter").json == {"value": 1}
    assert client.get("/counter").json == {"value": 1}
    assert wait_until(lambda: client.get("/counter").json == {"value": 2}, timeout=5, interval=0.1)


def test_an_answer_computed_just_after_an_event_is_recomputed_again_shortly_after(
        rabbit_config, bus, state):
    """Another service may still be reacting to the event (indexing what was published) when
    the first answer after it is computed: that answer must not stay until the next event."""
    app = _app(rabbit_config["AMQP_URI"], state)
    # the echo must come after the next two steps, which a loaded machine may take seconds for
    app.extensions["response_cache"].echo_s = (3.0,)
    client = app.test_client()
    client.get("/headline")
    cache = app.extensions["response_cache"]
    assert wait_until(lambda: cache.listening, timeout=10)
    before = cache.generation(("news",))[0]
    bus.publish(new_event("news", "article_updated", {
        "article_id": "a1", "slug": "hoi-nghi", "title": "Hội nghị", "summary": "",
        "body_text": "x", "category": {"slug": "ban-tuyen-giao", "name": "Ban Tuyên giáo"},
        "published_at": "2020-10-15T02:00:00.000Z", "revision": 2}))
    assert wait_until(lambda: cache.generation(("news",))[0] > before, timeout=20, interval=0.01)
    assert client.get("/headline").json == {"title": "Hội nghị"}  # the reaction is not done yet
    state["title"] = "Hội nghị đã cập nhật"                          # ...now it is
    assert wait_until(lambda: client.get("/headline").json == {"title": "Hội nghị đã cập nhật"},
                      timeout=20, interval=0.05)
    assert cache.generation(("news",))[0] >= before + 2  # bumped again after the event
    cache.stop()
