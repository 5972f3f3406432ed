"""``news-import`` against a running news service (real broker and database): JSON lines,
JSON and HTML files, a report of rejected items, and a second run that changes nothing."""
import json

import pytest

from news.importer import main, parse_html
from portal_common.settings import get_settings
from tests.integration.newsroom import newsroom  # noqa: F401  (fixture)

SEED_HTML = """<!doctype html><html><head>
<title>Tin tức</title>
<meta name="category" content="ban-tuyen-giao">
<meta name="description" content="Đối thoại với công nhân khu công nghiệp.">
<meta name="source-unit" content="LĐLĐ tỉnh Lào Cai">
<meta name="keywords" content="đối thoại, công nhân">
<meta name="published_time" content="2020-01-10T08:00:00+07:00">
</head><body>
<h1>Hội nghị đối thoại với công nhân khu công nghiệp Đông Phố Mới</h1>
<p>Công đoàn tổ chức đối thoại.</p>
<figure><img src="https://congdoan.laocai.gov.vn/a.jpg" onerror="x()">
<figcaption>Quang cảnh Hội nghị đối thoại</figcaption></figure>
<script>alert(1)</script>
<p>Bài: Tiến Sỹ; Ảnh: Đồng Hồng - PT</p>
</body></html>"""


@pytest.fixture
def cli(rabbit_config, monkeypatch, newsroom):
    """Run ``news-import`` in this process, against the test's vhost and namespace."""
    monkeypatch.setenv("AMQP_URI", rabbit_config["AMQP_URI"])
    get_settings.cache_clear()

    def run(*args):
        return main([*map(str, args), "--quiet"])
    yield run
    get_settings.cache_clear()


def test_an_html_page_becomes_an_article_with_its_credits_and_captions():
    item = parse_html(SEED_HTML)
    assert item["title"].startswith("Hội nghị đối thoại")
    assert item["credits"] == "Bài: Tiến Sỹ; Ảnh: Đồng Hồng - PT"
    assert "Bài: Tiến Sỹ" not in item["body_html"] and "<h1>" not in item["body_html"]
    assert item["tags"] == ["đối thoại", "công nhân"] and item["category"] == "ban-tuyen-giao"


def test_a_folder_is_imported_once_and_a_second_run_changes_nothing(cli, newsroom, tmp_path, capsys):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "tin.html").write_text(SEED_HTML, "utf-8")
    lines = [
        {"source_id": "old-site/1", "title": "Tập huấn nghiệp vụ công đoàn năm 2018",
         "body_html": "<p>Nội dung</p>", "category": "ban-tuyen-giao",
         "published_at": "2018-06-01T08:00:00+07:00"},
        {"source_id": "old-site/2", "title": "x", "body_html": "", "category": "ban-tuyen-giao"},
        {"source_id": "old-site/3", "title": "Tin của chuyên mục đã bỏ",
         "body_html": "<p>Nội dung</p>", "category": "chuyen-muc-cu"},
    ]
    (folder / "tin.jsonl").write_text("\n".join(json.dumps(line, ensure_ascii=False)
                                                for line in lines) + "\n{not json\n", "utf-8")
    report = tmp_path / "rejected.jsonl"

    assert cli(folder, "--report", report) == 1
    out = capsys.readouterr().out
    assert "2 created, 0 updated, 0 unchanged, 3 rejected" in out
    rejected = {r["item"]: r for r in map(json.loads, report.read_text("utf-8").splitlines())}
    assert set(rejected) == {"tin.jsonl:2", "tin.jsonl:3", "tin.jsonl:4"}
    assert {e["field"] for e in rejected["tin.jsonl:2"]["errors"]} == {"title", "body_html"}
    assert rejected["tin.jsonl:3"]["errors"][0]["field"] == "category"  # the service said so
    assert "not JSON" in rejected["tin.jsonl:4"]["errors"][0]["message"]

    published = newsroom.list_articles("ban-tuyen-giao")["items"]
    assert len(published) == 2
    html_article = newsroom.get_article(next(a["slug"] for a in published
                                              if a["title"].startswith("Hội nghị")))
    assert html_article["credits"] == "Bài: Tiến Sỹ; Ảnh: Đồng Hồng - PT"
    assert "<figcaption>Quang cảnh Hội nghị đối thoại</figcaption>" in html_article["body_html"]
    assert "<script" not in html_article["body_html"] and "onerror" not in html_article["body_html"]
    assert html_article["published_at"] == "2020-01-10T01:00:00.000Z"  # kept from the page

    assert cli(folder) == 1
    assert "0 created, 0 updated, 2 unchanged, 3 rejected" in capsys.readouterr().out
    assert newsroom.list_articles("ban-tuyen-giao")["total"] == 2


def test_an_edited_item_updates_its_article_with_a_revision(cli, newsroom, tmp_path, capsys):
    source = tmp_path / "one.json"
    item = {"source_id": "old-site/9", "title": "Đại hội Công đoàn cơ sở",
            "body_html": "<p>Bản đầu</p>", "category": "ban-tuyen-giao"}
    source.write_text(json.dumps(item, ensure_ascii=False), "utf-8")
    assert cli(source) == 0
    source.write_text(json.dumps({**item, "body_html": "<p>Bản sửa</p>"}, ensure_ascii=False),
                      "utf-8")
    assert cli(source, "--actor", "bientap") == 0
    assert "0 created, 1 updated" in capsys.readouterr().out
    article = newsroom.list_articles("ban-tuyen-giao")["items"][0]
    assert newsroom.get_article(article["slug"])["body_html"] == "<p>Bản sửa</p>"
    latest = newsroom.list_revisions(article["id"])["items"][0]
    assert latest["by"] == "bientap" and latest["changes"][0]["field"] == "body_html"


def test_without_the_news_service_the_import_stops_with_a_clear_status(rabbit_config, monkeypatch,
                                                                       namespace, tmp_path, capsys):
    monkeypatch.setenv("AMQP_URI", rabbit_config["AMQP_URI"])
    get_settings.cache_clear()
    source = tmp_path / "one.json"
    source.write_text(json.dumps({"source_id": "a", "title": "Tin mới nhất", "category": "b",
                                  "body_html": "<p>x</p>"}), "utf-8")
    assert main([str(source), "--quiet", "--timeout", "2"]) == 3
    assert "cannot be reached" in capsys.readouterr().out
    get_settings.cache_clear()
