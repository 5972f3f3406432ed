"""The topic taxonomy and the suggestion of a topic from a text.

The default taxonomy is the one the federation reports on; admins edit it (names, keywords,
order, active) through ``PUT /api/v1/feedback/topics/{slug}``. A suggestion scores each active
topic by the keywords found in the text — both folded (lowercase, no diacritics, đ → d), so a
worker typing "bao hiem xa hoi" on a phone without a Vietnamese keyboard gets the same topic as
one typing "bảo hiểm xã hội". Longer phrases weigh more; ties go to the topic listed first.
"""
from __future__ import annotations

from typing import Any, Iterable

from feedback.text import contains_phrase, words

OTHER = "other"

DEFAULT_TOPICS: list[dict[str, Any]] = [
    {"slug": "wages-income", "name": "Tiền lương, thu nhập", "order": 1,
     "keywords": ["tiền lương", "lương", "thu nhập", "tiền thưởng", "thưởng tết", "nợ lương",
                  "chậm lương", "trả lương", "lương tối thiểu", "phụ cấp", "tăng ca"]},
    {"slug": "social-insurance", "name": "Bảo hiểm xã hội, bảo hiểm y tế", "order": 2,
     "keywords": ["bảo hiểm xã hội", "bhxh", "bảo hiểm y tế", "bhyt", "bảo hiểm thất nghiệp",
                  "sổ bảo hiểm", "chế độ thai sản", "ốm đau", "lương hưu", "đóng bảo hiểm",
                  "nợ bảo hiểm"]},
    {"slug": "working-time", "name": "Thời giờ làm việc, nghỉ ngơi", "order": 3,
     "keywords": ["giờ làm", "làm thêm giờ", "tăng ca", "ca đêm", "nghỉ phép", "nghỉ lễ",
                  "ngày nghỉ", "nghỉ ngơi", "thời giờ làm việc", "làm chủ nhật"]},
    {"slug": "occupational-safety", "name": "An toàn, vệ sinh lao động", "order": 4,
     "keywords": ["an toàn lao động", "tai nạn lao động", "tai nạn", "bệnh nghề nghiệp",
                  "bảo hộ lao động", "độc hại", "khói bụi", "tiếng ồn", "vệ sinh lao động",
                  "sập", "cháy nổ"]},
    {"slug": "labour-contracts", "name": "Hợp đồng lao động, sa thải", "order": 5,
     "keywords": ["hợp đồng lao động", "hợp đồng", "sa thải", "cho thôi việc", "đuổi việc",
                  "chấm dứt hợp đồng", "thử việc", "kỷ luật lao động", "mất việc", "nghỉ việc"]},
    {"slug": "union-organisation", "name": "Tổ chức công đoàn, đoàn phí", "order": 6,
     "keywords": ["công đoàn cơ sở", "đoàn phí", "kinh phí công đoàn", "đoàn viên",
                  "thành lập công đoàn", "kết nạp", "ban chấp hành công đoàn", "đại hội công đoàn"]},
    {"slug": "housing-living", "name": "Nhà ở, đời sống", "order": 7,
     "keywords": ["nhà ở", "nhà trọ", "phòng trọ", "tiền điện", "tiền nước", "nhà trẻ",
                  "đời sống", "bữa ăn ca", "suất ăn", "giá cả", "thiết chế công đoàn"]},
    {"slug": "policy-opinion", "name": "Ý kiến về chủ trương, chính sách", "order": 8,
     "keywords": ["chính sách", "chủ trương", "dự thảo", "luật", "nghị định", "quy định mới",
                  "góp ý dự thảo", "thông tư", "nghị quyết"]},
    {"slug": OTHER, "name": "Khác", "order": 99, "keywords": []},
]


def suggest(text: str, topics: Iterable[dict[str, Any]]) -> str:
    """The slug of the best-matching active topic, or ``other`` when nothing matches."""
    tokens = words(text)
    best, best_score = OTHER, 0
    for topic in sorted(topics, key=lambda t: (t.get("order", 0), t["slug"])):
        if not topic.get("active", True) or topic["slug"] == OTHER:
            continue
        score = sum(len(words(k)) for k in topic.get("keywords", ()) if contains_phrase(tokens, k))
        if score > best_score:
            best, best_score = topic["slug"], score
    return best
