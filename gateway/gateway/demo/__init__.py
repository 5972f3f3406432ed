"""Demo content built from the customer's real seed page (Lào Cai, 2020)."""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

CATEGORIES = [
    {"slug": "tin-tuc-su-kien", "name": "Tin tức - Sự kiện", "parent": None, "order": 1},
    {"slug": "ban-tuyen-giao", "name": "Ban Tuyên giáo", "parent": "tin-tuc-su-kien", "order": 1},
]

DOCUMENTS = [
    {"number": "100-KL/TW", "type": "Kết luận", "issuer": "Ban Bí thư (khóa XI)",
     "issued_date": None, "status": "in_force",
     "fields": ["Công tác tư tưởng", "Dư luận xã hội"],
     "title": "Kết luận của Ban Bí thư về việc nắm bắt và phản ánh dư luận xã hội",
     "text": "Kết luận 100-KL/TW của Ban Bí thư (khóa XI) về công tác nắm bắt, phản ánh dư luận "
             "xã hội."},
    {"number": "39-CT/TU", "type": "Chỉ thị", "issuer": "Tỉnh ủy Lào Cai",
     "issued_date": "2014-03-25", "status": "in_force",
     "fields": ["Công tác tư tưởng", "Dư luận xã hội"],
     "title": "Chỉ thị về việc tăng cường sự lãnh đạo của cấp ủy các cấp đối với công tác nắm "
              "bắt, phản ánh dư luận xã hội",
     "text": "Chỉ thị 39-CT/TU ngày 25/3/2014 của Tỉnh ủy Lào Cai về việc tăng cường sự lãnh đạo "
             "của cấp ủy các cấp đối với công tác nắm bắt, phản ánh dư luận xã hội."},
]

POLL = {"question": "Bạn quan tâm mục gì nhất trong website của chúng tôi?",
        "options": ["Tin Tức - Sự Kiện", "Tra cứu văn bản"],
        "results_visibility": "always"}  # "Bình chọn" on the seed page
SEED_ARTICLE = Path(__file__).with_name("seed_article.json")  # an ImportItem for news-import

VISITOR_BASE_TOTAL = 331663  # "Thông tin truy cập: 331663" on the seed page


def seed_article() -> dict:
    text = resources.files(__package__).joinpath("seed_article.json").read_text("utf-8")
    return json.loads(text)
