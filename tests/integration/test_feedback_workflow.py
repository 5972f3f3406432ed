"""Staff work on feedback through the gateway: the inbox by unit scope, the audited workflow, topic
override and reassignment in the history, internal notes apart from the public answer, events."""
from tests.integration.feedback_support import portal  # noqa: F401  (fixture)


def _patch(portal, code, headers, **body):
    return portal.client.patch(f"/api/v1/feedback/{code}", json=body, headers=headers)


def test_a_feedback_goes_from_received_to_closed_with_every_step_audited(portal, bus):
    portal.load_units()
    bus.listen("feedback")
    moderator = portal.user("mod-bat-xat", ["moderator"], ["ldld-bat-xat"])
    code = portal.submit(text="Anh chị em ở mỏ đồng Sin Quyền phải làm thêm giờ mà không được trả "
                              "tiền tăng ca.", district="bat-xat")
    assert portal.stored(code)
    bus.collect(1)

    assigned = _patch(portal, code, moderator, status="assigned", assignee="chi-hoa",
                      note="giao đồng chí Hoa")
    assert assigned.status_code == 200, assigned.json
    assert _patch(portal, code, moderator, status="in_progress").status_code == 200
    noted = _patch(portal, code, moderator, internal_note="Đã gọi điện cho công ty; chờ bảng lương.")
    assert noted.status_code == 200
    # answering needs an answer
    refused = _patch(portal, code, moderator, status="answered")
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "public_answer"
    answered = _patch(portal, code, moderator,
                      public_answer="Công ty đã cam kết trả tiền làm thêm giờ trong kỳ lương tới.")
    assert answered.status_code == 200 and answered.json["status"] == "answered"
    closed = _patch(portal, code, moderator, status="closed", note="người lao động đã nhận tiền")
    assert closed.json["status"] == "closed"
    # closed is final
    reopen = _patch(portal, code, moderator, status="in_progress")
    assert reopen.status_code == 422 and "closed" in reopen.json["detail"]

    public = portal.client.get(f"/api/v1/feedback/{code}").json
    assert public["status"] == "closed"
    assert public["public_answer"].startswith("Công ty đã cam kết")
    assert "Đã gọi điện" not in str(public)  # internal notes never reach the public

    staff = portal.details(code)
    steps = [(h["action"], h["from"], h["to"], h["by"]) for h in staff["history"]
             if h["action"] == "status_changed"]
    assert steps == [("status_changed", "received", "assigned", "mod-bat-xat"),
                     ("status_changed", "assigned", "in_progress", "mod-bat-xat"),
                     ("status_changed", "in_progress", "answered", "mod-bat-xat"),
                     ("status_changed", "answered", "closed", "mod-bat-xat")]
    assert staff["notes"][0]["text"].startswith("Đã gọi điện") and staff["assignee"] == "chi-hoa"

    events = bus.collect(5)
    types = [e["type"] for e in events]
    assert types.count("feedback_status_changed") == 4 and types.count("feedback_answered") == 1
    changed = [e["data"] for e in events if e["type"] == "feedback_status_changed"]
    assert [(d["previous_status"], d["status"]) for d in changed][0] == ("received", "assigned")
    assert all(d["unit"] == "ldld-bat-xat" and d["topic"] for d in changed)


def test_reject_and_duplicate_need_a_reason_and_the_original(portal):
    portal.load_units()
    first = portal.submit()
    second = portal.submit(text="Một nội dung khác hẳn về nhà ở của công nhân khu công nghiệp.")
    assert portal.stored(first) and portal.stored(second)
    no_reason = _patch(portal, second, portal.admin, status="rejected")
    assert no_reason.status_code == 422 and no_reason.json["errors"][0]["field"] == "reason"
    no_original = _patch(portal, second, portal.admin, status="duplicate", reason="trùng")
    assert no_original.status_code == 422
    dup = _patch(portal, second, portal.admin, status="duplicate", reason="trùng nội dung",
                 duplicate_of=first)
    assert dup.status_code == 200 and dup.json["duplicate_of"] == first
    assert dup.json["reason"] == "trùng nội dung" and dup.json["resolved_at"]


def test_topic_override_and_reassignment_are_kept_in_the_history(portal):
    portal.load_units()
    code = portal.submit(text="Tiền lương tháng 10 chưa được trả cho giáo viên hợp đồng.")
    assert portal.stored(code)
    before = portal.details(code)
    assert before["topic"] == "wages-income" and before["topic_suggested"] == "wages-income"
    changed = _patch(portal, code, portal.admin, topic="labour-contracts", unit="cd-giao-duc",
                     note="giáo viên hợp đồng: chuyển Công đoàn ngành Giáo dục")
    assert changed.status_code == 200
    after = portal.details(code)
    assert after["topic"] == "labour-contracts" and after["topic_suggested"] == "wages-income"
    actions = {h["action"]: h for h in after["history"]}
    assert actions["topic_changed"]["from"] == "wages-income"
    assert actions["topic_changed"]["to"] == "labour-contracts"
    assert actions["reassigned"]["to"] == "cd-giao-duc" and actions["reassigned"]["by"] == "admin"
    unknown = _patch(portal, code, portal.admin, topic="no-such-topic")
    assert unknown.status_code == 422


def test_a_moderator_sees_and_changes_only_their_units_and_the_units_under_them(portal):
    portal.load_units()
    apatit = portal.submit(text="Công nhân Apatit phản ánh bữa ăn ca kém chất lượng.",
                           contact={"workplace": "Công ty Apatit Việt Nam"}, consent=True)
    sapa = portal.submit(text="Nhân viên khách sạn ở Sa Pa bị nợ lương hai tháng.",
                         district="sa-pa")
    assert portal.stored(apatit) and portal.stored(sapa)
    bat_xat = portal.user("mod-bx", ["moderator"], ["ldld-bat-xat"])  # Apatit is under it
    inbox = portal.client.get("/api/v1/feedback", headers=bat_xat)
    assert inbox.status_code == 200
    assert [i["tracking_code"] for i in inbox.json["items"]] == [apatit]
    assert inbox.json["total"] == 1 and inbox.json["items"][0]["unit"] == "cdcs-apatit"
    assert portal.client.get(f"/api/v1/feedback/{sapa}/details",
                             headers=bat_xat).status_code == 403
    assert _patch(portal, sapa, bat_xat, status="assigned").status_code == 403
    everything = portal.client.get("/api/v1/feedback", headers=portal.admin).json
    assert everything["total"] == 2
    editor = portal.user("editor1", ["editor"])
    assert portal.client.get("/api/v1/feedback", headers=editor).status_code == 403
    assert portal.client.get("/api/v1/feedback").status_code == 401


def test_the_inbox_filters_by_status_topic_text_and_overdue(portal):
    portal.load_units()
    wages = portal.submit(text="Công ty nợ lương công nhân ba tháng liền.")
    safety = portal.submit(text="Xưởng thiếu đồ bảo hộ lao động, nguy cơ tai nạn lao động cao.")
    assert portal.stored(wages) and portal.stored(safety)
    get = lambda **q: portal.client.get("/api/v1/feedback", query_string=q,  # noqa: E731
                                        headers=portal.admin)
    assert [i["id"] for i in get(topic="occupational-safety").json["items"]] == [safety]
    assert [i["id"] for i in get(q="bao ho").json["items"]] == [safety]   # no diacritics
    assert [i["id"] for i in get(q="nợ lương").json["items"]] == [wages]
    assert get(status="received,assigned").json["total"] == 2
    assert get(status="closed").json["total"] == 0
    assert get(overdue="true").json["total"] == 0  # due in 15 working days
    assert get(overdue="false").json["total"] == 2
    assert get(unit="ldld-sa-pa").json["total"] == 0
    assert get(status="unknown").status_code == 422
    page = get(per_page=1, page=2).json
    assert page["page"] == 2 and page["per_page"] == 1 and len(page["items"]) == 1
    # an admin shortens the due time: the overdue flag and list follow the stored due date
    item = get(topic="occupational-safety").json["items"][0]
    assert item["overdue"] is False and item["due_at"] > item["received_at"]


def test_personal_data_is_erased_on_request_and_the_statistics_stay(portal):
    portal.load_units()
    code = portal.submit(kind="question", text="Tôi là Trần Thị B, ở Bát Xát, hỏi về chế độ "
                                               "thai sản khi công ty nợ bảo hiểm xã hội.",
                         contact={"name": "Trần Thị B", "email": "b@example.vn"}, consent=True)
    assert portal.stored(code)
    moderator = portal.user("mod-x", ["moderator"], ["ldld-lao-cai"])
    erase = portal.client.post(f"/api/v1/feedback/{code}/erase-personal-data",
                               json={"note": "yêu cầu ngày 26/11"}, headers=moderator)
    assert erase.status_code == 403
    erased = portal.client.post(f"/api/v1/feedback/{code}/erase-personal-data",
                                json={"note": "yêu cầu ngày 26/11"}, headers=portal.admin)
    assert erased.status_code == 200
    record = erased.json
    assert record["contact"] is None and "Trần" not in record["text"] and record["erased"]
    assert record["topic"] == "social-insurance" and record["kind"] == "question"
    assert record["history"][-1]["action"] == "personal_data_erased"
    report = portal.client.get("/api/v1/feedback/reports", query_string={
        "period": record["received_at"][:4]}, headers=portal.admin).json
    assert report["totals"]["received"] == 1
    assert portal.client.get("/api/v1/feedback", query_string={"q": "Tran Thi"},
                             headers=portal.admin).json["total"] == 0
