"""Bulk import into the register: JSON lines, CSV, or a folder of PDF/DOCX with a metadata sheet.

Rows are validated by the same model as ``POST /api/v1/documents`` (``DocumentIn``); a row that
breaks it, or whose number is already registered, is written to the rejects report with its
reasons and the import goes on. Valid rows are stored in batches (``insert_many``), indexed in
bulk (``streaming_bulk``, external versions), and each indexed document is announced with a
``document_indexed`` event (publisher confirms).

Unlike a single registration (outbox inside the document, then an update marking it indexed),
rows are inserted already marked indexed and their events are published directly: FerretDB
rewrites a whole document per update, tens of milliseconds each, and one update per row made
imports crawl. Resumption keeps the guarantee instead: after each batch the number of input rows
done is written to the checkpoint file; a run with the same checkpoint skips them and redoes an
interrupted batch, where rows already stored by this same import (``imported_from``) are
indexed and announced again (both idempotent) rather than reported as duplicates. An import
interrupted and never resumed may leave its last batch out of search: ``documents-reindex``
repairs that.
"""
from __future__ import annotations

import csv
import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from pymongo.errors import BulkWriteError

from portal_common.errors import Invalid, validated
from portal_common.events import new_event
from portal_common.schemas.documents import DocumentIn

from documents.attachments import DOCX, PDF, extract_text, sniff
from documents.register import DocumentRegister
from documents.search_index import SearchIndex, bulk_write

log = logging.getLogger(__name__)

LIST_SEPARATOR = ";"


@dataclass
class Row:
    line: int                       # 1-based position in the input (the CSV header is line 1)
    data: dict[str, Any]
    file: Path | None = None        # folder imports: the original PDF/DOCX


@dataclass
class Report:
    read: int = 0
    imported: int = 0
    already_imported: int = 0
    rejected: int = 0
    skipped_by_checkpoint: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if k != "rejects"}


# -- reading the inputs ---------------------------------------------------------------------------

def _csv_row(raw: dict[str, str]) -> dict[str, Any]:
    """A CSV row as a DocumentIn payload: empty cells are absent, lists split on ';',
    relations written "based_on:45/2019/QH14; replaces:…"."""
    row: dict[str, Any] = {}
    for key, value in raw.items():
        if key is None:
            row.setdefault("_extra_cells", value)
            continue
        key = key.strip().lower()
        value = (value or "").strip()
        if not value or key == "file":
            continue
        if key == "fields":
            row[key] = [v.strip() for v in value.split(LIST_SEPARATOR) if v.strip()]
        elif key == "relations":
            relations = []
            for item in value.split(LIST_SEPARATOR):
                relation, _, number = item.strip().partition(":")
                if relation.strip():
                    relations.append({"relation": relation.strip(), "number": number.strip()})
            row[key] = relations
        else:
            row[key] = value
    return row


def read_rows(path: Path, fmt: str | None = None, metadata: Path | None = None
              ) -> Iterator[Row]:
    """Rows of a ``.jsonl`` file, a ``.csv`` file, or a folder with a metadata sheet."""
    fmt = fmt or ("folder" if path.is_dir() else path.suffix.lstrip(".").lower())
    if fmt in ("jsonl", "ndjson", "json"):
        with path.open(encoding="utf-8") as fh:
            for line_no, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    data = {"_unreadable": f"not valid JSON: {exc.msg} (column {exc.colno})"}
                if not isinstance(data, dict):
                    data = {"_unreadable": "a line must be a JSON object"}
                yield Row(line_no, data)
    elif fmt == "csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            for raw in reader:
                yield Row(reader.line_num, _csv_row(raw))
    elif fmt == "folder":
        sheet = metadata or path / "metadata.csv"
        if not sheet.exists():
            raise FileNotFoundError(f"{sheet}: a folder import needs a metadata sheet "
                                    "(CSV with a `file` column)")
        with sheet.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            for index, raw in enumerate(reader, 2):
                name = (raw.get("file") or "").strip()
                yield Row(index, _csv_row(raw), (path / name) if name else None)
    else:
        raise ValueError(f"unknown input format '{fmt}': use jsonl, csv or a folder")


def source_key(path: Path) -> str:
    """Identifies an input across runs (its resolved path and size)."""
    resolved = path.resolve()
    size = resolved.stat().st_size if resolved.is_file() else 0
    return hashlib.sha1(f"{resolved}:{size}".encode()).hexdigest()[:16]


# -- importing -----------------------------------------------------------------------------------

class Importer:
    def __init__(self, register: DocumentRegister, index: SearchIndex, *,
                 publish: Callable[[dict[str, Any]], None] | None = None,
                 batch_size: int = 500, source: str = "import"):
        self.register = register
        self.index = index
        self.publish = publish
        self.batch_size = batch_size
        self.source = source

    def run(self, rows: Iterator[Row], *, checkpoint: Path | None = None,
            progress: Callable[[int], None] | None = None) -> Report:
        report = Report()
        done = _read_checkpoint(checkpoint)
        batch: list[tuple[Row, dict[str, Any]]] = []
        seen: set[str] = set()
        position = 0
        for position, row in enumerate(rows, 1):
            report.read += 1
            if position <= done:
                report.skipped_by_checkpoint += 1
                continue
            record = self._record(row, seen, report)
            if record is not None:
                batch.append((row, record))
            if len(batch) >= self.batch_size:
                self._flush(batch, report)
                batch = []
                _write_checkpoint(checkpoint, position)
            if progress:
                progress(1)
        if batch:
            self._flush(batch, report)
        _write_checkpoint(checkpoint, position)
        if report.imported:
            self.index.client.indices.refresh(index=self.index.alias)  # searchable on return
        return report

    def _reject(self, report: Report, row: Row, reasons: list[str]) -> None:
        report.rejected += 1
        report.rejects.append({"line": row.line, "number": str(row.data.get("number", "")),
                               "reasons": reasons})

    def _record(self, row: Row, seen: set[str], report: Report) -> dict[str, Any] | None:
        data = dict(row.data)
        if "_unreadable" in data:
            self._reject(report, row, [data["_unreadable"]])
            return None
        if "_extra_cells" in data:
            self._reject(report, row, ["more cells than the header has columns"])
            return None
        attachment = None
        if row.file is not None:
            try:
                attachment = self._read_file(row.file)
            except (OSError, Invalid) as exc:
                message = (exc.errors[0]["message"] if isinstance(exc, Invalid) and exc.errors
                           else str(exc))
                self._reject(report, row, [f"file: {message}"])
                return None
            if not data.get("text"):
                data["text"] = attachment["text"]
        try:
            document = validated(DocumentIn, data)
        except Invalid as exc:
            self._reject(report, row, [f"{e['field']}: {e['message']}" for e in exc.errors])
            return None
        record = self.register.new_record(document)
        if record["number_key"] in seen:
            self._reject(report, row, ["number: appears twice in this import"])
            return None
        seen.add(record["number_key"])
        record["imported_from"] = self.source
        if attachment:
            record["_file"] = attachment
        return record

    @staticmethod
    def _read_file(path: Path) -> dict[str, Any]:
        data = path.read_bytes()
        kind = sniff(data)
        if kind not in (PDF, DOCX):
            raise Invalid("unsupported", [{"field": "file", "message":
                                           f"{path.name} is neither a PDF nor a DOCX file"}])
        return {"filename": path.name, "content_type": kind, "data": data,
                "text": extract_text(data, kind, path.name)}

    def _flush(self, batch: list[tuple[Row, dict[str, Any]]], report: Report) -> None:
        records = [record for _, record in batch]
        files = {r["_id"]: r.pop("_file") for r in records if "_file" in r}
        for record in records:
            # stored as indexed: FerretDB rewrites a document per update (tens of ms each), so
            # an update per imported row would dominate the import; see the module docstring
            record.update({"indexed_revision": record["revision"], "needs_indexing": False})
        stored, redo = self._insert(batch, report)
        for record in stored:
            file = files.get(record["_id"])
            if file:  # the original, like an upload through the API
                record.update(self.register.add_attachment(
                    record["_id"], filename=file["filename"], content_type=file["content_type"],
                    data=file["data"], text=file["text"]))
        targets = stored + redo
        if not targets:
            return
        indexed: set[str] = set()
        actions = ({"_index": self.index.alias, "_id": f"document-{r['_id']}",
                    "version": r["revision"], "version_type": "external",
                    "_source": self.register.to_search(r)} for r in targets)
        self.index.ensure()
        bulk_write(self.index.client, actions, chunk_size=self.batch_size,
                   on_item=lambda ok, item: ok and indexed.add(item["_id"][len("document-"):]))
        missed = [r["_id"] for r in targets if r["_id"] not in indexed]
        if missed:  # the service's catch_up indexes them
            self.register.documents.update_many({"_id": {"$in": missed}},
                                                {"$set": {"needs_indexing": True}})
        self._announce([r for r in targets if r["_id"] in indexed])

    def _insert(self, batch, report: Report) -> tuple[list[dict], list[dict]]:
        """Insert the batch; returns (stored now, stored by an interrupted run of this import
        — indexed and announced again, harmlessly, since that run may have stopped before)."""
        records = [record for _, record in batch]
        try:
            self.register.documents.insert_many(records, ordered=False)
            report.imported += len(records)
            return records, []
        except BulkWriteError as exc:
            failed = {error["index"]: error for error in exc.details.get("writeErrors", [])}
        stored, redo = [], []
        for position, (row, record) in enumerate(batch):
            error = failed.get(position)
            if error is None:
                stored.append(record)
                report.imported += 1
                continue
            if error.get("code") != 11000:
                self._reject(report, row, [f"database: {error.get('errmsg', 'write failed')}"])
                continue
            existing = self.register.documents.find_one({"number_key": record["number_key"]},
                                                        {"outbox": 0})
            if existing and existing.get("imported_from") == self.source:
                report.already_imported += 1   # stored by an interrupted run of this import
                redo.append(existing)
            else:
                self._reject(report, row, ["number: already in the register"])
        return stored, redo

    def _announce(self, records: list[dict[str, Any]]) -> None:
        """Publish ``document_indexed`` for each indexed record (publisher confirms)."""
        if not self.publish:
            return
        for record in records:
            self.publish(new_event("documents", "document_indexed", {
                "document_id": record["_id"], "number": record["number"],
                "type": record["type"], "title": record["title"],
                "issued_date": record.get("issued_date")}))


def _read_checkpoint(path: Path | None) -> int:
    if path is None or not path.exists():
        return 0
    try:
        return int(json.loads(path.read_text())["rows_done"])
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"{path} is not a checkpoint of documents-import") from None


def _write_checkpoint(path: Path | None, rows_done: int) -> None:
    if path is None:
        return
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps({"rows_done": rows_done,
                               "at": datetime.now(timezone.utc).isoformat()}))
    tmp.replace(path)


def write_rejects(path: Path, rejects: list[dict[str, Any]], *, append: bool = False) -> None:
    """The rejected rows as CSV: line, number, reasons (separated by " | ")."""
    header = not (append and path.exists())
    with path.open("a" if append else "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        if header:
            writer.writerow(["line", "number", "reasons"])
        for reject in rejects:
            writer.writerow([reject["line"], reject["number"], " | ".join(reject["reasons"])])
