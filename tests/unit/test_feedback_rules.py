"""The feedback service's pure rules: folding Vietnamese, topic suggestion, routing in the unit
tree, working days with Vietnamese holidays, tracking codes, report periods."""
from datetime import date, datetime, timezone

import pytest

from feedback import taxonomy
from feedback.reports import Period
from feedback.routing import UnitTree, route
from feedback.text import contact_hash, fold, similarity, sketch, sketch_similarity
from feedback.workdays import LOCAL, add_working_days, due_at, is_working_day
from gateway.demo import feedback as demo
from portal_common.errors import Invalid
from portal_common.schemas.feedback import (
    TRACKING_CODE, new_tracking_code, normalise_tracking_code)

TOPICS = [{**t, "active": True} for t in taxonomy.DEFAULT_TOPICS]


def test_folding_drops_diacritics_case_and_d_stroke():
    assert fold("Bảo hiểm XÃ HỘI, Đóng đủ") == "bao hiem xa hoi, dong du"
    assert fold("ĐOÀN PHÍ công đoàn") == "doan phi cong doan"


@pytest.mark.parametrize("text, topic", [
    ("Công ty nợ bảo hiểm xã hội 3 tháng", "social-insurance"),
    ("cong ty no bao hiem xa hoi 3 thang", "social-insurance"),
    ("CÔNG TY NỢ LƯƠNG", "wages-income"),
    ("thieu do bao ho lao dong, de xay ra tai nan lao dong", "occupational-safety"),
    ("bi sa thai trai luat khi dang mang thai", "labour-contracts"),
    ("Đề nghị giảm mức đóng đoàn phí công đoàn", "union-organisation"),
    ("Phòng trọ của công nhân quá chật, tiền điện cao", "housing-living"),
    ("Góp ý dự thảo Luật Công đoàn sửa đổi", "policy-opinion"),
    ("Xin cảm ơn ban biên tập", "other"),
])
def test_a_topic_is_suggested_with_or_without_diacritics(text, topic):
    assert taxonomy.suggest(text, TOPICS) == topic


def test_an_inactive_topic_is_never_suggested():
    topics = [{**t, "active": t["slug"] != "wages-income"} for t in TOPICS]
    assert taxonomy.suggest("nợ lương", topics) == "other"


def test_keywords_match_whole_words_only():
    # the safety keyword "sập" folds to "sap": inside "Sapa" it is letters, not a word
    assert taxonomy.suggest("Công nhân khách sạn ở Sapa", TOPICS) == "other"
    assert taxonomy.suggest("Nhà xưởng có nguy cơ sập", TOPICS) == "occupational-safety"


def _tree():
    return UnitTree([{**{k: v for k, v in u.items() if k != "slug"}, "_id": u["slug"]}
                     for u in demo.UNITS])


def _rules():
    return [{**{k: v for k, v in r.items() if k != "id"}, "_id": r["id"]}
            for r in demo.ROUTING_RULES]


def test_a_moderators_scope_includes_the_units_under_theirs():
    tree = _tree()
    assert tree.scope(["ldld-bat-xat"]) == {"ldld-bat-xat", "cdcs-apatit", "cdcs-dong-sin-quyen"}
    assert len(tree.scope(["ldld-lao-cai"])) == len(demo.UNITS)
    assert tree.path("cdcs-apatit") == ["ldld-lao-cai", "ldld-bat-xat", "cdcs-apatit"]


@pytest.mark.parametrize("kwargs, unit, why", [
    ({"workplace": "Trường THPT số 1 Lào Cai"}, "cd-giao-duc", "rule giao-vien"),
    ({"topic": "union-organisation", "district": "sa-pa"}, "ldld-lao-cai", "rule to-chuc-cong-doan"),
    ({"workplace": "cong ty apatit viet nam"}, "cdcs-apatit", "workplace"),
    ({"district": "muong-khuong"}, "ldld-muong-khuong", "district"),
    ({"workplace": "Nhà máy gạch Tuynel, Bảo Thắng"}, "ldld-bao-thang", "district"),
    ({}, "ldld-lao-cai", "default"),
])
def test_routing_follows_rules_then_workplace_then_district_then_the_root(kwargs, unit, why):
    args = {"topic": "wages-income", "district": None, "workplace": None, "kind": "feedback",
            **kwargs}
    assert route(_tree(), _rules(), **args) == (unit, why)


def test_working_days_skip_weekends_and_vietnamese_holidays():
    assert not is_working_day(date(2024, 2, 12))   # Tết 2024
    assert not is_working_day(date(2024, 9, 2))    # National Day
    assert not is_working_day(date(2024, 3, 2))    # a Saturday
    # Friday 2024-02-02 + 5 working days: 5, 6, 7 Feb, then Tết (8–14 Feb), 15, 16 Feb
    assert add_working_days(date(2024, 2, 2), 5) == date(2024, 2, 16)
    received = datetime(2024, 4, 25, 3, 0, tzinfo=timezone.utc)  # Thursday, Hà Nội morning
    # 26 Apr (Fri), [27–28 weekend], [29 substitute day, 30 Apr, 1 May], 2, 3 May
    assert due_at(received, 3) == datetime(2024, 5, 3, 10, 0, tzinfo=timezone.utc)


def test_tracking_codes_are_readable_and_typed_codes_are_normalised():
    codes = {new_tracking_code("feedback") for _ in range(500)}
    assert len(codes) == 500 and all(TRACKING_CODE.match(c) for c in codes)
    assert not any(ch in "".join(codes) for ch in "01OIL")
    code = new_tracking_code("petition")
    assert code.startswith("KN-")
    assert normalise_tracking_code(code.lower().replace("-", " ")) == code
    assert normalise_tracking_code("GY-0000-0000") is None  # look-alikes are never issued
    assert normalise_tracking_code("x") is None


def test_near_duplicate_similarity_and_contact_hash():
    a = "Công ty chưa đóng bảo hiểm xã hội cho công nhân phân xưởng từ tháng 8"
    assert similarity(a, a + " năm nay") > 0.8
    assert similarity(a, "Đề nghị khám sức khoẻ định kỳ cho công nhân") < 0.2
    assert sketch_similarity(sketch(a), sketch(a + " năm nay")) == similarity(a, a + " năm nay")
    long_a = " ".join(f"từ{n}" for n in range(600))
    assert sketch_similarity(sketch(long_a), sketch(long_a + " thêm")) > 0.9
    assert contact_hash("k", {"phone": "+84 912 345 678"}) == contact_hash("k", {"phone": "0912345678"})
    assert contact_hash("k", {"name": "only a name"}) is None


@pytest.mark.parametrize("label, kind, start, end, previous", [
    ("2024-Q1", "quarter", date(2024, 1, 1), date(2024, 4, 1), "2023-Q4"),
    ("2024-03", "month", date(2024, 3, 1), date(2024, 4, 1), "2024-02"),
    ("2024-01", "month", date(2024, 1, 1), date(2024, 2, 1), "2023-12"),
    ("2024", "year", date(2024, 1, 1), date(2025, 1, 1), "2023"),
])
def test_report_periods(label, kind, start, end, previous):
    period = Period(label)
    assert (period.kind, period.start_day, period.end_day) == (kind, start, end)
    assert period.previous().label == previous
    # periods are calendar periods in Hà Nội time: they start at 17:00 UTC the day before
    assert period.start.astimezone(LOCAL).date() == start and period.start.hour == 17


def test_a_bad_period_is_invalid():
    for label in ("2024-Q5", "2024-13", "24", "2024-1"):
        with pytest.raises(Invalid):
            Period(label)


def test_report_periods_outside_1900_2099_are_invalid_input_not_a_crash():
    import pytest

    from feedback.reports import Period
    from portal_common.errors import Invalid

    assert Period("2024-Q1").months == 3 and Period("2024-03").months == 1
    for label in ("0000", "9999-12", "2024-13", "2024-Q5", "24"):
        with pytest.raises(Invalid):
            Period(label)
