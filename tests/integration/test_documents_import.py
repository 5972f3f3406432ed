"""Bulk import: JSON lines, CSV, a folder of PDF/DOCX with a metadata sheet; rejects; resuming."""
import csv
import json

import pytest

from documents.cli import _backends, import_main
from documents.importer import Importer, read_rows
from tests.files import tiny_docx, tiny_pdf


def _doc(n, **extra):
    return {"number": f"{n}/KH-LĐLĐ", "type": "Kế hoạch", "issuer": "Liên đoàn Lao động tỉnh",
            "issued_date": f"2024-0{1 + n % 9}-15", "title": f"Kế hoạch số {n} về tuyên truyền "
            "pháp luật lao động", "text": "Tuyên truyền pháp luật cho công nhân.", **extra}


def _search(q, **filters):
    _, mongo, client, *_rest, index = _backends("test")
    try:
        from portal_common.schemas.documents import DocumentSearchQuery
        return index.search_documents(DocumentSearchQuery(q=q, per_page=100, **filters))
    finally:
        client.close()
        mongo.close()


def _run(argv, capsys):
    assert import_main([*argv, "--quiet"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_json_lines_are_imported_and_bad_rows_reported_with_their_reasons(
        namespace, tmp_path, capsys):
    source = tmp_path / "docs.jsonl"
    lines = [json.dumps(_doc(n), ensure_ascii=False) for n in range(1, 6)]
    lines.insert(2, json.dumps(_doc(90, type="Truyện ngắn"), ensure_ascii=False))
    lines.insert(4, '{"number": "91/KH", "title": ')
    lines.append(json.dumps(_doc(3), ensure_ascii=False))  # the same number again
    lines.append(json.dumps(_doc(92, issued_date="31/12/2024"), ensure_ascii=False))
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejected.csv"

    report = _run([str(source), "--rejects", str(rejects), "--batch", "2"], capsys)

    assert report["imported"] == 5 and report["rejected"] == 4
    rows = list(csv.DictReader(rejects.open(encoding="utf-8")))
    reasons = {row["line"]: row["reasons"] for row in rows}
    assert "type: Value error, unknown document type 'Truyện ngắn'" in reasons["3"]
    assert reasons["5"].startswith("not valid JSON")
    assert reasons["8"] == "number: appears twice in this import"
    assert reasons["9"].startswith("issued_date:")
    found = _search("ke hoach tuyen truyen phap luat lao dong")
    assert found["total"] == 5
    assert _search("kh 3")["items"][0]["number"] == "3/KH-LĐLĐ"

    again = _run([str(source), "--rejects", str(rejects), "--checkpoint",
                  str(tmp_path / "other.checkpoint")], capsys)
    assert again["imported"] == 0 and again["already_imported"] == 5


def test_csv_with_lists_and_relations(namespace, tmp_path, capsys):
    source = tmp_path / "docs.csv"
    with source.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["number", "type", "issuer", "issued_date", "status", "fields", "title",
                         "relations"])
        writer.writerow(["12/2012/QH13", "Luật", "Quốc hội", "2012-06-20", "in_force",
                         "Công đoàn; Lao động", "Luật Công đoàn", ""])
        writer.writerow(["43/2013/NĐ-CP", "nghi dinh", "Chính phủ", "2013-05-10", "", "",
                         "Nghị định quy định chi tiết thi hành Điều 10 của Luật Công đoàn",
                         "guides:12/2012/QH13"])
        writer.writerow(["", "Luật", "Quốc hội", "", "", "", "Không có số", ""])

    report = _run([str(source), "--rejects", str(tmp_path / "r.csv")], capsys)

    assert (report["imported"], report["rejected"]) == (2, 1)
    assert _search("nghi dinh 43/2013")["items"][0]["type"] == "Nghị định"
    assert _search("cong doan", field="Lao động")["total"] == 1


def test_a_folder_of_pdf_and_docx_with_a_metadata_sheet(namespace, tmp_path, capsys):
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "quy-che.pdf").write_bytes(tiny_pdf("Quy che phoi hop giua cong doan va chinh quyen"))
    (folder / "huong-dan.docx").write_bytes(tiny_docx("Hướng dẫn bầu cử ban chấp hành"))
    (folder / "ghi-chu.txt").write_text("không phải văn bản")
    with (folder / "metadata.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "number", "type", "issuer", "title"])
        writer.writerow(["quy-che.pdf", "01/QC-LĐLĐ", "Quy chế", "LĐLĐ tỉnh", "Quy chế phối hợp"])
        writer.writerow(["huong-dan.docx", "02/HD-LĐLĐ", "Hướng dẫn", "LĐLĐ tỉnh",
                         "Hướng dẫn đại hội"])
        writer.writerow(["ghi-chu.txt", "03/TB-LĐLĐ", "Thông báo", "LĐLĐ tỉnh", "Ghi chú"])
        writer.writerow(["mat-tich.pdf", "04/TB-LĐLĐ", "Thông báo", "LĐLĐ tỉnh", "Mất tích"])
    rejects = tmp_path / "r.csv"

    report = _run([str(folder), "--rejects", str(rejects)], capsys)

    assert (report["imported"], report["rejected"]) == (2, 2)
    assert [h["number"] for h in _search("phoi hop chinh quyen")["items"]] == ["01/QC-LĐLĐ"]
    assert [h["number"] for h in _search("bầu cử ban chấp hành")["items"]] == ["02/HD-LĐLĐ"]
    reasons = [row["reasons"] for row in csv.DictReader(rejects.open(encoding="utf-8"))]
    assert reasons[0] == "file: ghi-chu.txt is neither a PDF nor a DOCX file"
    assert reasons[1].startswith("file: ") and "mat-tich.pdf" in reasons[1]


def test_an_interrupted_import_resumes_from_its_checkpoint_without_duplicates(
        namespace, tmp_path, capsys):
    source = tmp_path / "docs.jsonl"
    source.write_text("\n".join(json.dumps(_doc(n), ensure_ascii=False)
                                for n in range(1, 31)) + "\n", encoding="utf-8")
    checkpoint = tmp_path / "docs.checkpoint"
    _settings, mongo, client, register, _articles, index = _backends("test")

    def interrupted():
        for position, row in enumerate(read_rows(source), 1):
            if position == 18:
                raise KeyboardInterrupt  # Ctrl-C in the middle of a batch
            yield row

    importer = Importer(register, index, batch_size=5, source="the-same-input")
    with pytest.raises(KeyboardInterrupt):
        importer.run(interrupted(), checkpoint=checkpoint)
    assert json.loads(checkpoint.read_text())["rows_done"] == 15
    assert register.documents.count_documents({}) == 15
    client.close()
    mongo.close()

    report = _run([str(source), "--checkpoint", str(checkpoint), "--rejects",
                   str(tmp_path / "r.csv")], capsys)

    assert report["skipped_by_checkpoint"] == 15 and report["imported"] == 15
    assert _search("ke hoach tuyen truyen")["total"] == 30
