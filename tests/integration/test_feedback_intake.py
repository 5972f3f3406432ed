"""Feedback through the gateway into the feedback service: accepted with 202 and a tracking code,
stored once, routed and given a topic; the public page shows status and answer, nothing personal.
"""
import json

import pika

from portal_common.schemas.feedback import INTAKE_QUEUE, TRACKING_CODE
from tests.bus import wait_until
from tests.integration.feedback_support import portal  # noqa: F401  (fixture)


def test_a_worker_sends_feedback_and_follows_it_by_its_code(portal, bus):
    bus.listen("feedback")
    portal.load_units()
    response = portal.client.post("/api/v1/feedback", json={
        "kind": "petition", "text": "Cong ty no bao hiem xa hoi cua cong nhan 3 thang nay.",
        "contact": {"name": "Nguyễn Văn A", "phone": "0912 345 678",
                    "workplace": "Công ty Apatit Việt Nam"}, "consent": True})
    assert response.status_code == 202
    code = response.json["tracking_code"]
    assert TRACKING_CODE.match(code) and code.startswith("KN-")
    assert response.json["status_url"] == f"/api/v1/feedback/{code}"

    public = portal.stored(code)
    assert public["status"] == "received" and public["status_label"] == "Đã tiếp nhận"
    assert public["unit_name"] == "CĐCS Công ty Apatit Việt Nam"
    text = json.dumps(public, ensure_ascii=False)
    assert "Nguyễn" not in text and "0912" not in text and "bao hiem" not in text

    # typed loosely by a person, the code still finds it
    loose = code.lower().replace("-", " ")
    assert portal.client.get(f"/api/v1/feedback/{loose}").json["tracking_code"] == code

    staff = portal.details(code)
    assert staff["topic"] == "social-insurance"  # matched without diacritics
    assert staff["unit"] == "cdcs-apatit" and staff["contact"]["name"] == "Nguyễn Văn A"
    assert [h["action"] for h in staff["history"]][:2] == ["received", "routed"]
    [event] = bus.collect(1)
    assert event["type"] == "feedback_received"
    assert event["data"] == {"feedback_id": code, "tracking_code": code, "kind": "petition",
                             "channel": "public", "topic": "social-insurance",
                             "unit": "cdcs-apatit", "received_at": event["data"]["received_at"]}


def test_an_unknown_or_malformed_code_is_the_same_404(portal):
    unknown = portal.client.get("/api/v1/feedback/GY-2345-6789")
    malformed = portal.client.get("/api/v1/feedback/not-a-code")
    assert unknown.status_code == malformed.status_code == 404
    assert unknown.json["detail"] == malformed.json["detail"]
    assert unknown.mimetype == "application/problem+json"


def _duplicates() -> float:
    """Intake messages the (in-process) service handled as an already stored code."""
    from prometheus_client import REGISTRY
    return REGISTRY.get_sample_value("portal_feedback_intake_total",
                                     {"outcome": "duplicate"}) or 0


def test_a_redelivered_submission_is_stored_once(portal, rabbit_config):
    code = portal.submit()
    assert portal.stored(code)
    duplicates = _duplicates()
    # the same message again, as a redelivery after a crash before the ack would bring it
    message = {"tracking_code": code, "kind": "feedback", "channel": "public",
               "text": "Công ty chậm trả lương tháng này cho công nhân.",
               "submitted_at": "2026-11-26T08:00:00.000Z"}
    connection = pika.BlockingConnection(pika.URLParameters(rabbit_config["AMQP_URI"]))
    channel = connection.channel()
    for _ in range(2):
        channel.basic_publish("", INTAKE_QUEUE, json.dumps(message).encode(),
                              pika.BasicProperties(delivery_mode=2,
                                                   content_type="application/json"))
    # handled, not only taken off the queue (a delivered message is not counted as waiting
    # there while the consumer still works on it)
    assert wait_until(lambda: _duplicates() >= duplicates + 2, timeout=20), _duplicates()
    connection.close()
    stats = portal.app.extensions["rpc"].call("feedback", "stats")
    assert stats == {"feedback": 1}
    assert len(portal.details(code)["history"]) == 3  # received, routed, topic_suggested: once


def test_a_message_that_breaks_the_schema_is_dead_lettered_not_lost(portal, rabbit_config, bus):
    portal.submit()  # the service runs and consumes
    connection = pika.BlockingConnection(pika.URLParameters(rabbit_config["AMQP_URI"]))
    channel = connection.channel()
    channel.basic_publish("", INTAKE_QUEUE, json.dumps({"tracking_code": "nope"}).encode(),
                          pika.BasicProperties(delivery_mode=2, content_type="application/json"))
    connection.close()
    parked = bus.get_one("feedback.dead-letters", timeout=10)
    assert parked == {"tracking_code": "nope"}


def test_bad_input_is_a_problem_naming_the_field_and_nothing_is_queued(portal, bus):
    cases = [
        ({"kind": "feedback", "text": "ngắn"}, "text"),
        ({"kind": "complaint", "text": "Một nội dung đủ dài để gửi đi."}, "kind"),
        ({"kind": "feedback", "text": "Một nội dung đủ dài để gửi đi.",
          "contact": {"email": "a@b.vn"}}, "body"),  # contact without consent
        ({"kind": "feedback", "text": "Một nội dung đủ dài để gửi đi.",
          "contact": {"phone": "call me"}, "consent": True}, "contact.phone"),
        ({"kind": "feedback", "text": "x" * 5001}, "text"),
    ]
    for body, field in cases:
        response = portal.client.post("/api/v1/feedback", json=body)
        assert response.status_code == 422, body
        assert field in [e["field"] for e in response.json["errors"]], response.json
    too_big = portal.client.post("/api/v1/feedback", data=b'{"kind": "feedback", "text": "' +
                                 b"a" * 40000 + b'"}', content_type="application/json")
    assert too_big.status_code == 413 and too_big.mimetype == "application/problem+json"
    assert bus.queue_depth(INTAKE_QUEUE) == 0
    assert portal.app.extensions["rpc"].call("feedback", "stats") == {"feedback": 0}


def test_a_bot_filling_the_honeypot_gets_a_202_but_nothing_is_stored(portal):
    from gateway.intake import HONEYPOT
    before = HONEYPOT._value.get()
    response = portal.client.post("/api/v1/feedback", json={
        "kind": "feedback", "text": "Mua thuốc giá rẻ tại đây, liên hệ ngay!",
        "website": "http://spam.example"})
    assert response.status_code == 202 and TRACKING_CODE.match(response.json["tracking_code"])
    assert HONEYPOT._value.get() == before + 1
    real = portal.submit()
    assert portal.stored(real)
    assert portal.client.get(response.json["status_url"]).status_code == 404
    assert portal.app.extensions["rpc"].call("feedback", "stats") == {"feedback": 1}
