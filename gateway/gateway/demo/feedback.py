"""Demo data of the feedback part: the union units of Lào Cai province and routing rules.

The tree follows the seed page's federation: the provincial LĐLĐ, the district and city
LĐLĐs, two sector unions, and a few grassroots unions with the workplaces they cover.
"""
from __future__ import annotations

ROOT = "ldld-lao-cai"

UNITS: list[dict] = [
    {"slug": ROOT, "name": "LĐLĐ tỉnh Lào Cai", "type": "province", "parent": None,
     "expects_reports": False, "order": 0},
    {"slug": "ldld-tp-lao-cai", "name": "LĐLĐ thành phố Lào Cai", "type": "district",
     "parent": ROOT, "district": "tp-lao-cai", "order": 1},
    {"slug": "ldld-bat-xat", "name": "LĐLĐ huyện Bát Xát", "type": "district", "parent": ROOT,
     "district": "bat-xat", "order": 2},
    {"slug": "ldld-muong-khuong", "name": "LĐLĐ huyện Mường Khương", "type": "district",
     "parent": ROOT, "district": "muong-khuong", "order": 3},
    {"slug": "ldld-bao-thang", "name": "LĐLĐ huyện Bảo Thắng", "type": "district",
     "parent": ROOT, "district": "bao-thang", "order": 4},
    {"slug": "ldld-sa-pa", "name": "LĐLĐ thị xã Sa Pa", "type": "district", "parent": ROOT,
     "district": "sa-pa", "order": 5},
    {"slug": "cd-giao-duc", "name": "Công đoàn ngành Giáo dục", "type": "sector",
     "parent": ROOT, "order": 10},
    {"slug": "cd-cong-thuong", "name": "Công đoàn ngành Công Thương", "type": "sector",
     "parent": ROOT, "order": 11},
    {"slug": "cdcs-apatit", "name": "CĐCS Công ty Apatit Việt Nam", "type": "grassroots",
     "parent": "ldld-bat-xat", "district": "bat-xat",
     "workplaces": ["Apatit", "Công ty Apatit Việt Nam"], "order": 1},
    {"slug": "cdcs-dong-sin-quyen", "name": "CĐCS Chi nhánh mỏ tuyển đồng Sin Quyền",
     "type": "grassroots", "parent": "ldld-bat-xat", "district": "bat-xat",
     "workplaces": ["Sin Quyền", "mỏ đồng Sin Quyền"], "order": 2},
    {"slug": "cdcs-kcn-tang-loong", "name": "CĐCS Khu công nghiệp Tằng Loỏng",
     "type": "grassroots", "parent": "ldld-bao-thang", "district": "bao-thang",
     "workplaces": ["Tằng Loỏng", "KCN Tằng Loỏng"], "order": 1},
    {"slug": "cdcs-thpt-so-1-tp", "name": "CĐCS Trường THPT số 1 TP Lào Cai",
     "type": "grassroots", "parent": "cd-giao-duc", "district": "tp-lao-cai",
     "workplaces": ["THPT số 1 Lào Cai"], "order": 1},
]

ROUTING_RULES: list[dict] = [
    # teachers' matters go to the education sector union wherever they work
    {"id": "giao-vien", "priority": 10, "workplace_contains": "trường", "unit": "cd-giao-duc"},
    # union organisation and dues are decided by the province
    {"id": "to-chuc-cong-doan", "priority": 20, "topic": "union-organisation", "unit": ROOT},
    {"id": "cong-thuong", "priority": 30, "workplace_contains": "điện lực",
     "unit": "cd-cong-thuong"},
]

# A few submissions so that the inbox and the reports have something to show. Their tracking
# codes are fixed (DEMx) so that a second bootstrap stores nothing twice.
FEEDBACK: list[dict] = [
    {"tracking_code": "GY-DEMA-AAA2", "kind": "feedback", "channel": "public",
     "text": "Công ty ở Bát Xát chậm trả lương tháng 10 cho công nhân, đề nghị công đoàn can thiệp.",
     "district": "bat-xat"},
    {"tracking_code": "KN-DEMA-AAA3", "kind": "petition", "channel": "public",
     "text": "Cong ty Apatit chua dong bao hiem xa hoi cho cong nhan phan xuong tuyen quang.",
     "contact": {"name": "Lò Văn C", "phone": "0987 654 321",
                 "workplace": "Công ty Apatit Việt Nam"}, "consent": True},
    {"tracking_code": "HD-DEMA-AAA4", "kind": "question", "channel": "public",
     "text": "Xin hỏi giáo viên hợp đồng có được hưởng phụ cấp thâm niên không?",
     "contact": {"workplace": "Trường THPT số 1 Lào Cai"}, "consent": True},
    {"tracking_code": "GY-DEMA-AAA5", "kind": "feedback", "channel": "public",
     "text": "Công trường ở Sa Pa thiếu đồ bảo hộ lao động, dễ xảy ra tai nạn lao động.",
     "district": "sa-pa"},
    {"tracking_code": "KN-DEMA-AAA6", "kind": "petition", "channel": "staff",
     "text": "Tại buổi đối thoại, công nhân kiến nghị xây thêm nhà trọ gần KCN Tằng Loỏng.",
     "unit": "cdcs-kcn-tang-loong", "submitted_by": "admin",
     "meeting": {"type": "dialogue", "held_on": "2026-11-20", "place": "KCN Tằng Loỏng"}},
    {"tracking_code": "DL-DEMA-AAA7", "kind": "opinion_report", "channel": "collaborator",
     "text": "Báo cáo dư luận: công nhân lo lắng về việc điều chỉnh lương tối thiểu vùng.",
     "submitted_by": "admin", "unit": "ldld-bat-xat", "topic": "wages-income",
     "report": {"unit": "ldld-bat-xat", "period": None, "topic": "wages-income",
                "trends": "Công nhân lo lắng về việc điều chỉnh lương tối thiểu vùng năm tới.",
                "mood": "worried", "people_concerned": 240,
                "proposals": "Đề nghị doanh nghiệp công khai lộ trình tăng lương."}},
]
