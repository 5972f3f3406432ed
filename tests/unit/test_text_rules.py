"""Vietnamese text rules of the newsroom: slugs and sanitised HTML."""
import pytest

from news.text import make_slug, parse_credits, plain_text, sanitize_html


@pytest.mark.parametrize("title, slug", [
    ("Kết quả sau 5 năm thực hiện Kết luận 100-KL/TW", "ket-qua-sau-5-nam-thuc-hien-ket-luan-100-kl-tw"),
    ("Đoàn viên, công nhân, viên chức, lao động", "doan-vien-cong-nhan-vien-chuc-lao-dong"),
    ("ĐẠI HỘI CÔNG ĐOÀN TỈNH LÀO CAI", "dai-hoi-cong-doan-tinh-lao-cai"),
    ("!!!", "bai-viet"),
])
def test_slugs_are_readable_ascii(title, slug):
    assert make_slug(title) == slug


def test_long_titles_are_cut_at_a_word_boundary():
    slug = make_slug("Hội nghị " * 40)
    assert len(slug) <= 120 and not slug.endswith("-")


@pytest.mark.parametrize("dirty, forbidden", [
    ('<p onclick="steal()">x</p>', "onclick"),
    ("<script>alert(1)</script><p>x</p>", "<script"),
    ('<a href="javascript:alert(1)">x</a>', "javascript:"),
    ('<img src="x" onerror="steal()">', "onerror"),
    ("<style>body{}</style>", "<style"),
    ('<iframe src="https://evil.example"></iframe>', "<iframe"),
])
def test_dangerous_html_is_removed(dirty, forbidden):
    assert forbidden not in sanitize_html(dirty)


def test_the_structure_of_an_article_is_kept():
    html = ('<h2>Tiêu đề</h2><p>Đoạn <strong>đậm</strong> <a href="https://laocai.gov.vn">link</a></p>'
            '<figure><img src="/a.jpg" alt="Hội nghị"><figcaption>Quang cảnh Hội nghị</figcaption>'
            '</figure><table><tr><td>1</td></tr></table><ul><li>một</li></ul>')
    clean = sanitize_html(html)
    for kept in ("<h2>", "<strong>", 'href="https://laocai.gov.vn"', "<figcaption>", "<img",
                 "<table>", "<li>"):
        assert kept in clean


def test_plain_text_keeps_the_words_and_decodes_entities():
    assert plain_text("<p>Lao &amp; động</p><p>Công đoàn</p>") == "Lao & động Công đoàn"


@pytest.mark.parametrize("title, slug", [
    ("Most read", "most-read-bai"),
    ("0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef-bai"),
])
def test_a_slug_is_never_a_route_name_nor_an_id(title, slug):
    assert make_slug(title) == slug


@pytest.mark.parametrize("credits, byline", [
    ("Bài: Tiến Sỹ; Ảnh: Đồng Hồng - PT", {"author": "Tiến Sỹ", "photo": "Đồng Hồng - PT"}),
    ("Tin, ảnh: Minh Anh", {"author": "Minh Anh", "photo": "Minh Anh"}),
    ("Phòng Tuyên giáo", {"author": "Phòng Tuyên giáo", "photo": None}),
    (None, {"author": None, "photo": None}),
])
def test_credits_are_split_into_author_and_photographer(credits, byline):
    assert parse_credits(credits) == byline
