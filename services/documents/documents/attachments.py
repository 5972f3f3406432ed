"""Text out of the originals staff attach to a document: PDF (pypdf) and DOCX (python-docx).

The text is indexed with the document, so a search finds words that appear only in the file.
The type is decided by the file's own first bytes, not by what the client claims.
"""
from __future__ import annotations

import io
import logging
import re

from portal_common.errors import Invalid

log = logging.getLogger(__name__)

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ACCEPTED = {PDF: ".pdf", DOCX: ".docx"}
MAX_TEXT_CHARS = 2_000_000


def sniff(data: bytes) -> str | None:
    """The media type the bytes really are (PDF or DOCX), or None."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04") and b"word/" in data[:4096 * 16]:
        return DOCX
    return None


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join((page.extract_text() or "") for page in reader.pages)


def _docx_text(data: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def extract_text(data: bytes, content_type: str | None = None, filename: str = "") -> str:
    """The plain text of a PDF or DOCX. Raises Invalid if it is neither or cannot be read."""
    kind = sniff(data)
    if kind is None:
        raise Invalid("unsupported file", [{"field": "file",
                                            "message": "only PDF and DOCX files are accepted"}])
    try:
        text = _pdf_text(data) if kind == PDF else _docx_text(data)
    except Exception as exc:  # a damaged file: the library's own error says little to users
        log.info("could not read %s (%s): %s", filename, kind, exc)
        raise Invalid("unreadable file", [{"field": "file",
                                           "message": f"the {ACCEPTED[kind][1:].upper()} file "
                                                      "could not be read"}]) from None
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()[:MAX_TEXT_CHARS]
