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
