"""A large, realistic register for the search benchmark, generated from templates.

Document types, issuers, numbering schemes and subjects are the ones a provincial trade-union
federation handles; the generator is deterministic (seeded), so the same size gives the same
corpus, and its fingerprint says whether an index built earlier can be reused.
"""
from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

from documents.numbers import number_key

GENERATOR_VERSION = 2
SEED = 20261126

PROVINCES = ["Lào Cai", "Yên Bái", "Hà Giang", "Lai Châu", "Sơn La", "Điện Biên", "Phú Thọ",
             "Tuyên Quang", "Thái Nguyên", "Bắc Giang", "Cao Bằng", "Lạng Sơn", "Hòa Bình",
             "Bắc Kạn", "Quảng Ninh", "Nghệ An", "Thanh Hóa", "Đắk Lắk", "Cần Thơ", "Bình Dương"]
DISTRICTS = ["Bảo Thắng", "Bát Xát", "Sa Pa", "Văn Bàn", "Bắc Hà", "Mường Khương", "Si Ma Cai",
             "Bảo Yên", "Trấn Yên", "Lục Yên", "Văn Chấn", "Mù Cang Chải"]
SUBJECTS = [
    "công tác nắm bắt, phản ánh dư luận xã hội trong công nhân, viên chức, lao động",
    "chăm lo đời sống vật chất, tinh thần cho đoàn viên, người lao động",
    "tiền lương, thưởng Tết và chế độ phúc lợi của người lao động",
    "công tác an toàn, vệ sinh lao động và phòng chống cháy nổ",
    "thực hiện chính sách bảo hiểm xã hội, bảo hiểm y tế, bảo hiểm thất nghiệp",
    "thương lượng, ký kết và thực hiện thỏa ước lao động tập thể",
    "phát triển đoàn viên, thành lập công đoàn cơ sở trong doanh nghiệp ngoài nhà nước",
    "tổ chức Tháng Công nhân và Tháng hành động về an toàn, vệ sinh lao động",
    "xây dựng nhà ở xã hội, thiết chế công đoàn cho công nhân khu công nghiệp",
    "phong trào thi đua lao động giỏi, lao động sáng tạo",
    "quản lý, sử dụng tài chính công đoàn và kinh phí công đoàn",
    "công tác kiểm tra, giám sát của Ủy ban Kiểm tra công đoàn",
    "tuyên truyền, phổ biến, giáo dục pháp luật cho người lao động",
    "tổ chức đối thoại định kỳ tại nơi làm việc",
    "phòng ngừa, giải quyết tranh chấp lao động và ngừng việc tập thể",
    "học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh",
    "đào tạo, bồi dưỡng nghiệp vụ cho cán bộ công đoàn cơ sở",
    "bảo vệ quyền, lợi ích hợp pháp của lao động nữ",
    "chăm sóc sức khỏe, khám bệnh nghề nghiệp cho người lao động",
    "chuyển đổi số trong hoạt động công đoàn",
    "hỗ trợ đoàn viên bị ảnh hưởng bởi thiên tai, dịch bệnh",
    "xây dựng quan hệ lao động hài hòa, ổn định và tiến bộ",
    "thực hiện dân chủ ở cơ sở tại nơi làm việc",
    "tiếp công dân, giải quyết khiếu nại, tố cáo của đoàn viên",
    "tổ chức đại hội công đoàn các cấp nhiệm kỳ 2023 - 2028",
    "chương trình Tết Sum vầy và Chợ Tết công đoàn",
    "mạng lưới cộng tác viên dư luận xã hội của tổ chức công đoàn",
    "giới thiệu việc làm, dạy nghề cho người lao động mất việc",
]
PERIODS = ["6 tháng đầu năm", "quý I", "quý II", "quý III", "năm", "9 tháng"]

# (type, code in the number, issuer template, number template, title template)
TEMPLATES = [
    ("Nghị định", "NĐ", "Chính phủ", "{n}/{y}/NĐ-CP", "Nghị định quy định chi tiết về {s}"),
    ("Thông tư", "TT", "Bộ Lao động - Thương binh và Xã hội", "{n}/{y}/TT-BLĐTBXH",
     "Thông tư hướng dẫn thực hiện {s}"),
    ("Quyết định", "QĐ", "Tổng Liên đoàn Lao động Việt Nam", "{n}/QĐ-TLĐ",
     "Quyết định ban hành Quy chế về {s}"),
    ("Hướng dẫn", "HD", "Tổng Liên đoàn Lao động Việt Nam", "{n}/HD-TLĐ", "Hướng dẫn {s}"),
    ("Kế hoạch", "KH", "Liên đoàn Lao động tỉnh {p}", "{n}/KH-LĐLĐ",
     "Kế hoạch triển khai {s} năm {y}"),
    ("Công văn", "CV", "Liên đoàn Lao động tỉnh {p}", "{n}/LĐLĐ-TG", "Về việc {s}"),
    ("Chỉ thị", "CT", "Tỉnh ủy {p}", "{n}-CT/TU",
     "Chỉ thị về tăng cường sự lãnh đạo của cấp ủy đối với {s}"),
    ("Nghị quyết", "NQ", "Ban Chấp hành Đảng bộ tỉnh {p}", "{n}-NQ/TU", "Nghị quyết về {s}"),
    ("Kết luận", "KL", "Ban Thường vụ Tỉnh ủy {p}", "{n}-KL/TU",
     "Kết luận về tiếp tục thực hiện {s}"),
    ("Báo cáo", "BC", "Liên đoàn Lao động huyện {d}", "{n}/BC-LĐLĐ",
     "Báo cáo kết quả {s} {period} {y}"),
    ("Thông báo", "TB", "Liên đoàn Lao động tỉnh {p}", "{n}/TB-LĐLĐ",
     "Thông báo kết luận của Thường trực về {s}"),
    ("Quy chế", "QC", "Ủy ban nhân dân tỉnh {p}", "{n}/QC-UBND",
     "Quy chế phối hợp giữa Ủy ban nhân dân tỉnh và Liên đoàn Lao động tỉnh về {s}"),
]
BODIES = [
    "Căn cứ Luật Công đoàn năm 2012 và Bộ luật Lao động năm 2019, {issuer} yêu cầu các cấp công "
    "đoàn tập trung thực hiện {s}; định kỳ báo cáo kết quả về Thường trực.",
    "Mục đích: nâng cao hiệu quả {s}, bảo đảm quyền, lợi ích hợp pháp, chính đáng của đoàn "
    "viên, người lao động tại {p}.",
    "Giao Ban Tuyên giáo chủ trì, phối hợp với các ban liên quan hướng dẫn, kiểm tra việc thực "
    "hiện; tổng hợp khó khăn, vướng mắc báo cáo trước ngày 15 hằng tháng.",
    "Kinh phí thực hiện được bố trí từ nguồn tài chính công đoàn và xã hội hóa; các công đoàn "
    "cơ sở chủ động xây dựng kế hoạch chi tiết.",
]
STATUSES = ["in_force"] * 8 + ["expired", "partially_expired"]


def fingerprint(size: int) -> str:
    return hashlib.sha256(f"{GENERATOR_VERSION}:{SEED}:{size}".encode()).hexdigest()[:16]


def generate(size: int) -> list[dict]:
    rng = random.Random(SEED)
    documents, used = [], set()
    while len(documents) < size:
        doc_type, _code, issuer, number, title = rng.choice(TEMPLATES)
        year = rng.randint(2005, 2025)
        province, district = rng.choice(PROVINCES), rng.choice(DISTRICTS)
        subject = rng.choice(SUBJECTS)
        values = {"n": rng.randint(1, 9999), "y": year, "p": province, "d": district,
                  "s": subject, "period": rng.choice(PERIODS)}
        values["issuer"] = issuer.format(**values)
        numbered = number.format(**values)
        key = number_key(numbered)
        if key in used:  # the register holds each number once, in any spelling
            continue
        used.add(key)
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        documents.append({
            "number": numbered, "type": doc_type, "issuer": values["issuer"],
            "issued_date": f"{year}-{month:02d}-{day:02d}", "status": rng.choice(STATUSES),
            "fields": [rng.choice(["Công đoàn", "Lao động - Tiền lương", "Bảo hiểm",
                                   "Dư luận xã hội", "Thi đua, khen thưởng"])],
            "title": title.format(**values),
            "text": " ".join(body.format(**values) for body in rng.sample(BODIES, 3)),
        })
    return documents


def write_jsonl(documents: list[dict], path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for document in documents:
            fh.write(json.dumps(document, ensure_ascii=False) + "\n")


QUERIES = [
    "du luan xa hoi", "nắm bắt dư luận xã hội", "cham lo doi song doan vien",
    "tiền lương thưởng Tết", "an toan ve sinh lao dong", "thỏa ước lao động tập thể",
    "phat trien doan vien", "thang cong nhan", "nha o xa hoi cong nhan khu cong nghiep",
    "thi đua lao động giỏi", "tai chinh cong doan", "kiem tra giam sat", "doi thoai tai noi lam viec",
    "tranh chap lao dong", "hoc tap va lam theo tu tuong dao duc phong cach Ho Chi Minh",
    "lao động nữ", "chuyen doi so cong doan", "quan he lao dong hai hoa", "dan chu o co so",
    "dai hoi cong doan nhiem ky 2023 2028", "tết sum vầy", "cong tac vien du luan",
    "nghi dinh 2019", "ke hoach 2024 lao cai", "chi thi tinh uy yen bai",
    "bao cao 6 thang dau nam 2023", "quy che phoi hop ubnd", "bảo hiểm thất nghiệp",
    "giới thiệu việc làm dạy nghề", "huong dan tong lien doan",
]


def number_queries(documents: list[dict], count: int = 20) -> list[str]:
    """Numbers of documents that exist, typed the way people type them."""
    rng = random.Random(SEED + 1)
    picked = rng.sample(documents, count)
    out = []
    for i, doc in enumerate(picked):
        number = doc["number"]
        if i % 3 == 0:
            out.append(number.lower())
        elif i % 3 == 1:
            out.append(f"{doc['type'].lower()} {number.split('/')[0].split('-')[0]}")
        else:
            out.append(number.replace("-", " ").replace("/", " "))
    return out
