"""Nothing accepted is lost: feedback answered with 202 while the feedback service is stopped, or
while its database is stopped, is stored once they are back. Without a broker nothing is accepted
(503). The database test stops a PRIVATE FerretDB, never the shared one."""
from feedback.service import FeedbackService
from portal_common.schemas.feedback import INTAKE_QUEUE
from portal_common.settings import get_settings
from tests.bus import wait_until
from tests.integration.feedback_support import Portal, gateway_settings, portal  # noqa: F401
from tests.integration.private_ferretdb import private_ferretdb  # noqa: F401


def test_feedback_accepted_while_the_service_is_stopped_is_stored_when_it_returns(
        portal, container_factory, service_config, bus):
    first = portal.submit()
    assert portal.stored(first)
    portal.container.stop()
    codes = [portal.submit(text=f"Phản ánh số {n}: công ty chưa trả lương tháng 11 cho công nhân.")
             for n in range(5)]
    assert bus.queue_depth(INTAKE_QUEUE) == 5  # waiting on the broker, not lost
    restarted = container_factory(FeedbackService, service_config)
    restarted.start()
    assert all(portal.stored(code) for code in codes)
    assert portal.app.extensions["rpc"].call("feedback", "stats") == {"feedback": 6}


def test_feedback_accepted_while_the_database_is_stopped_is_stored_when_it_returns(
        private_ferretdb, monkeypatch, start_service, rabbit_config, namespace, tmp_path, bus,
        make_gateway):
    monkeypatch.setenv("MONGO_URI", private_ferretdb.uri)
    monkeypatch.setenv("MONGO_TIMEOUT_MS", "1000")
    get_settings.cache_clear()
    start_service(FeedbackService)
    app = make_gateway(gateway_settings(rabbit_config["AMQP_URI"], namespace, tmp_path))
    portal = Portal(app.test_client(), app)
    before = portal.submit()
    assert portal.stored(before)

    private_ferretdb.stop()
    codes = [portal.submit(text=f"Ý kiến {n}: đề nghị tăng phụ cấp độc hại cho công nhân mỏ.")
             for n in range(3)]
    # the service holds them and says so: a public lookup is 503, not a hang or a 500
    down = portal.client.get(f"/api/v1/feedback/{codes[0]}")
    assert down.status_code == 503 and down.headers["Retry-After"]

    private_ferretdb.start()
    assert all(portal.stored(code, timeout=40) for code in codes)
    assert wait_until(lambda: bus.queue_depth(INTAKE_QUEUE) == 0, timeout=10)
    assert app.extensions["rpc"].call("feedback", "stats") == {"feedback": 4}


def test_without_a_broker_nothing_is_accepted_and_the_sender_is_told(namespace, tmp_path,
                                                                    make_gateway):
    app = make_gateway(gateway_settings("amqp://guest:guest@127.0.0.1:9/", namespace, tmp_path))
    response = app.test_client().post("/api/v1/feedback", json={
        "kind": "feedback", "text": "Một phản ánh khi máy chủ hàng đợi không chạy."})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json" and response.headers["Retry-After"]
    assert "nothing was" in response.json["detail"]
