"""Reports for leadership, the collaborators' opinion reports and staff records, near-duplicates
linked, and the rate limits of the public endpoints."""
import csv
import io
from datetime import datetime, timedelta, timezone

from tests.integration.feedback_support import (gateway_settings, portal,  # noqa: F401
                                                stored_records, wait_settled)


def _quarter(moment: datetime) -> str:
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


def _shift_back(code: str, days: int) -> None:
    """Move a stored record back in time (received, due and resolved dates together), so that
    a test can build a history of several periods."""
    with stored_records() as records:
        # after the service's own follow-up writes, so that none races this one
        assert wait_settled(records, code)
        doc = records.find_one({"_id": code})
        delta = timedelta(days=days)
        changes = {k: doc[k] - delta for k in ("received_at", "due_at", "resolved_at",
                                               "answered_at") if doc.get(k)}
        records.update_one({"_id": code}, {"$set": changes})
        assert records.find_one({"_id": code})["received_at"] == changes["received_at"]


def test_collaborators_report_opinion_and_staff_enter_meeting_records(portal):
    portal.load_units()
    collaborator = portal.user("ctv-apatit", ["collaborator"], ["cdcs-apatit"])
    quarter = _quarter(datetime.now(timezone.utc))
    report = {"unit": "cdcs-apatit", "period": quarter, "topic": "wages-income",
              "trends": "Công nhân lo lắng về việc điều chỉnh lương tối thiểu vùng năm tới.",
              "mood": "worried", "people_concerned": 240,
              "proposals": "Đề nghị công ty công khai lộ trình tăng lương."}
    sent = portal.client.post("/api/v1/feedback/opinion-reports", json={"report": report},
                              headers=collaborator)
    assert sent.status_code == 202 and sent.json["tracking_code"].startswith("DL-")
    other_unit = portal.client.post("/api/v1/feedback/opinion-reports",
                                    json={"report": {**report, "unit": "ldld-sa-pa"}},
                                    headers=collaborator)
    assert other_unit.status_code == 403
    anonymous = portal.client.post("/api/v1/feedback/opinion-reports", json={"report": report})
    assert anonymous.status_code == 401

    moderator = portal.user("mod-province", ["moderator"], ["ldld-lao-cai"])
    record = portal.client.post("/api/v1/feedback/records", headers=moderator, json={
        "kind": "petition", "text": "Tại buổi đối thoại, công nhân kiến nghị xây nhà trọ gần "
                                    "khu công nghiệp Tằng Loỏng.",
        "meeting": {"type": "dialogue", "held_on": "2026-11-20", "place": "KCN Tằng Loỏng"},
        "unit": "cdcs-kcn-tang-loong"})
    assert record.status_code == 202

    stored = portal.details(sent.json["tracking_code"])
    assert stored["channel"] == "collaborator" and stored["report"]["people_concerned"] == 240
    assert stored["unit"] == "cdcs-apatit" and stored["topic"] == "wages-income"
    assert stored["submitted_by"] == "ctv-apatit"
    staff = portal.details(record.json["tracking_code"])
    assert staff["channel"] == "staff" and staff["meeting"]["type"] == "dialogue"
    assert staff["unit"] == "cdcs-kcn-tang-loong" and staff["topic"] == "housing-living"


def test_a_quarterly_report_counts_per_topic_unit_and_status_and_names_silent_units(portal):
    portal.load_units()
    now = datetime.now(timezone.utc)
    wages = [portal.submit(text=f"Công ty ở Bát Xát nợ lương công nhân, lần {n}.",
                           district="bat-xat") for n in range(3)]
    safety = portal.submit(text="Thiếu đồ bảo hộ lao động ở công trường Sa Pa.", district="sa-pa")
    collaborator = portal.user("ctv-bx", ["collaborator"], ["ldld-bat-xat"])
    opinion = portal.client.post("/api/v1/feedback/opinion-reports", headers=collaborator, json={
        "report": {"unit": "ldld-bat-xat", "period": _quarter(now), "topic": "wages-income",
                   "trends": "Nhiều công nhân lo nợ lương cuối năm.", "mood": "worried",
                   "people_concerned": 80}}).json["tracking_code"]
    old = portal.submit(text="Năm ngoái công ty cũng nợ lương công nhân.", district="bat-xat")
    for code in wages + [safety, opinion, old]:
        assert portal.stored(code)
    _shift_back(old, 100)  # the previous quarter: wages recur, and it is long overdue
    overdue = portal.client.get("/api/v1/feedback", query_string={"overdue": "true"},
                                headers=portal.admin).json
    assert [i["id"] for i in overdue["items"]] == [old] and overdue["items"][0]["overdue"]
    answer = {"public_answer": "Đã làm việc với công ty; lương được trả ngày 30."}
    assert portal.client.patch(f"/api/v1/feedback/{wages[0]}", json=answer,
                               headers=portal.admin).status_code == 200

    response = portal.client.get("/api/v1/feedback/reports",
                                 query_string={"period": _quarter(now)}, headers=portal.admin)
    assert response.status_code == 200, response.json
    report = response.json
    assert report["unit"]["slug"] == "ldld-lao-cai" and report["kind"] == "quarter"
    assert report["totals"]["received"] == 5 and report["totals"]["resolved"] == 1
    assert report["totals"]["open"] == 4 and report["totals"]["overdue"] == 0
    assert report["totals"]["median_resolution_days"] is not None
    by_topic = {r["topic"]: r for r in report["by_topic"]}
    assert by_topic["wages-income"]["received"] == 4 and by_topic["wages-income"]["resolved"] == 1
    assert by_topic["occupational-safety"]["received"] == 1
    by_unit = {r["unit"]: r for r in report["by_unit"]}
    assert by_unit["ldld-bat-xat"]["received"] == 4 and by_unit["ldld-sa-pa"]["received"] == 1
    statuses = {r["status"]: r["count"] for r in report["by_status"]}
    assert statuses["answered"] == 1 and statuses["received"] == 4
    [recurring] = report["recurring_topics"]
    assert recurring["topic"] == "wages-income" and recurring["counts"][:2] == [4, 1]
    reported = {r["unit"] for r in report["collaborators"]["reported"]}
    silent = {r["unit"] for r in report["collaborators"]["not_reported"]}
    assert reported == {"ldld-bat-xat"} and "ldld-sa-pa" in silent and "cd-giao-duc" in silent

    # the same for one district, a month and a year
    district = portal.client.get("/api/v1/feedback/reports", headers=portal.admin,
                                 query_string={"period": _quarter(now), "unit": "ldld-sa-pa"})
    assert district.json["totals"]["received"] == 1
    month = portal.client.get("/api/v1/feedback/reports", headers=portal.admin,
                              query_string={"period": now.strftime("%Y-%m")})
    assert month.json["kind"] == "month" and month.json["totals"]["received"] >= 4
    assert portal.client.get("/api/v1/feedback/reports", headers=portal.admin,
                             query_string={"period": str(now.year)}).json["kind"] == "year"
    bad = portal.client.get("/api/v1/feedback/reports", headers=portal.admin,
                            query_string={"period": "2024-Q5"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "period"

    # CSV, by format= or by Accept, UTF-8 with a BOM
    for kwargs in ({"query_string": {"period": _quarter(now), "format": "csv"}},
                   {"query_string": {"period": _quarter(now)},
                    "headers": {"Accept": "text/csv"}}):
        headers = {**portal.admin, **kwargs.pop("headers", {})}
        as_csv = portal.client.get("/api/v1/feedback/reports", headers=headers, **kwargs)
        assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
        assert as_csv.data.startswith(b"\xef\xbb\xbf")
        rows = list(csv.DictReader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
        topic_rows = {r["key"]: r for r in rows if r["section"] == "topic"}
        assert topic_rows["wages-income"]["name"] == "Tiền lương, thu nhập"
        assert topic_rows["wages-income"]["received"] == "4"
        assert any(r["section"] == "collaborators_not_reported" and r["key"] == "ldld-sa-pa"
                   for r in rows)

    # a moderator gets their own units only
    sa_pa = portal.user("mod-sp", ["moderator"], ["ldld-sa-pa"])
    own = portal.client.get("/api/v1/feedback/reports", headers=sa_pa,
                            query_string={"period": _quarter(now)})
    assert own.json["unit"]["slug"] == "ldld-sa-pa" and own.json["totals"]["received"] == 1
    assert portal.client.get("/api/v1/feedback/reports", headers=sa_pa, query_string={
        "period": _quarter(now), "unit": "ldld-bat-xat"}).status_code == 403


def test_due_days_per_kind_are_configurable_in_working_days(portal):
    assert portal.client.get("/api/v1/feedback/due-days", headers=portal.admin).json == {
        "feedback": 15, "question": 15, "petition": 15, "opinion_report": 15}
    changed = portal.client.put("/api/v1/feedback/due-days", headers=portal.admin,
                                json={"feedback": 15, "question": 5, "petition": 30,
                                      "opinion_report": 10})
    assert changed.status_code == 200 and changed.json["question"] == 5
    moderator = portal.user("mod-dd", ["moderator"], ["ldld-lao-cai"])
    assert portal.client.put("/api/v1/feedback/due-days", headers=moderator,
                             json={"question": 1}).status_code == 403
    question = portal.submit(kind="question", text="Xin hỏi về chế độ nghỉ phép năm của công nhân?")
    petition = portal.submit(kind="petition", text="Kiến nghị tăng phụ cấp độc hại cho công nhân mỏ.")
    q, p = portal.stored(question), portal.stored(petition)
    assert q["due_at"] < p["due_at"]  # 5 working days before 30


def test_near_duplicates_from_the_same_sender_are_linked(portal):
    contact = {"name": "Lò Văn C", "phone": "0987 654 321"}
    text = "Công ty Apatit chưa đóng bảo hiểm xã hội cho công nhân phân xưởng tuyển quặng từ tháng 8."
    first = portal.submit(text=text, contact=contact, consent=True)
    # sent again a little later, as people do: after the intake remembered the first text
    # (written after the record itself, so ``stored`` is not enough)
    assert portal.settled(first)
    again = portal.submit(text=text.replace("từ tháng 8", "từ tháng 8 năm nay") ,
                          contact={"phone": "+84 987 654 321"}, consent=True)
    assert portal.settled(again)  # the link back to it on the first record comes last
    other = portal.submit(text="Đề nghị tổ chức khám sức khoẻ định kỳ cho công nhân mỏ.",
                          contact=contact, consent=True)
    for code in (first, again, other):
        assert portal.settled(code)
    assert portal.details(again)["similar_to"] == [first]
    assert portal.details(first)["similar_to"] == [again]
    assert portal.details(other)["similar_to"] == []


def test_public_endpoints_are_rate_limited_with_a_problem_and_retry_after(
        start_service, rabbit_config, namespace, tmp_path, make_gateway):
    from feedback.service import FeedbackService
    start_service(FeedbackService)
    app = make_gateway(gateway_settings(rabbit_config["AMQP_URI"], namespace, tmp_path,
                                        RATE_LIMIT_FEEDBACK="2/minute",
                                        RATE_LIMIT_FEEDBACK_LOOKUP="3/minute"))
    client = app.test_client()
    body = {"kind": "question", "text": "Xin hỏi thủ tục nhận trợ cấp thất nghiệp?"}
    assert [client.post("/api/v1/feedback", json=body).status_code for _ in range(3)] == \
        [202, 202, 429]
    lookups = [client.get("/api/v1/feedback/GY-2345-6789") for _ in range(4)]
    assert [r.status_code for r in lookups] == [404, 404, 404, 429]
    limited = lookups[-1]
    assert limited.mimetype == "application/problem+json" and int(limited.headers["Retry-After"]) > 0
