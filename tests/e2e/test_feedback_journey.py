"""Feedback end to end, through the real gateway and service processes: the demo tree and
submissions from the bootstrap, a worker's feedback surviving a restart of the feedback service,
and the quarterly report printed by ``portal-admin``."""
from datetime import datetime, timezone

from tests.bus import wait_until


def _found(api, code):
    response = api.get(f"/api/v1/feedback/{code}")
    return response.json() if response.status_code == 200 else None


def test_feedback_sent_while_the_feedback_service_is_down_is_answered_after_it_returns(
        platform, api, admin_token):
    admin = {"Authorization": f"Bearer {admin_token}"}
    units = api.get("/api/v1/feedback/units").json()["items"]
    assert {"ldld-lao-cai", "ldld-bat-xat", "cd-giao-duc"} <= {u["slug"] for u in units}
    assert wait_until(lambda: _found(api, "KN-DEMA-AAA3"), timeout=20)  # demo, via the queue

    platform.stop("feedback")
    try:
        sent = [api.post("/api/v1/feedback", json={
            "kind": "feedback", "district": "muong-khuong",
            "text": f"Phản ánh {n}: công nhân nông trường chè Mường Khương bị nợ lương."})
            for n in range(3)]
        assert [r.status_code for r in sent] == [202, 202, 202]
        # reading needs the service: a prompt problem document, not a hang
        assert api.get(f"/api/v1/feedback/{sent[0].json()['tracking_code']}").status_code == 503
    finally:
        platform.start("feedback")
    codes = [r.json()["tracking_code"] for r in sent]
    assert all(wait_until(lambda c=c: _found(api, c), timeout=30) for c in codes)
    assert {_found(api, c)["unit_name"] for c in codes} == {"LĐLĐ huyện Mường Khương"}

    answer = api.patch(f"/api/v1/feedback/{codes[0]}", headers=admin, json={
        "public_answer": "LĐLĐ huyện đã làm việc với nông trường; lương được trả trước 15/12."})
    assert answer.status_code == 200 and answer.json()["status"] == "answered"
    assert _found(api, codes[0])["public_answer"].startswith("LĐLĐ huyện đã làm việc")

    now = datetime.now(timezone.utc)
    quarter = f"{now.year}-Q{(now.month - 1) // 3 + 1}"
    # the province named: other tests of the session (the fuzzer) may have added root units
    text = platform.run_task(("portal-admin", "feedback-report", "--period", quarter,
                              "--unit", "ldld-lao-cai"))
    assert f"— {quarter}" in text and "LĐLĐ tỉnh Lào Cai" in text
    assert "LĐLĐ huyện Mường Khương" in text and "Tiền lương, thu nhập" in text
    print(text)
