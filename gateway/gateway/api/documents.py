"""The document register ("Tra cứu văn bản"): lookup, suggestions, documents and attachments."""
from __future__ import annotations

import base64
from datetime import date

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, Field

from gateway.accounts import require_roles
from gateway.api.search import SearchHit
from gateway.caching import cached
from gateway.contract import ListPage, operation
from gateway.inputs import UnsupportedMediaType, json_body, query_args
from portal_common.errors import Invalid
from portal_common.schemas.documents import (DocumentIn, DocumentPatch, DocumentSearchQuery,
                                             SuggestQuery)

bp = Blueprint("documents", __name__, url_prefix="/api/v1")

ATTACHMENT_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


class FacetValue(BaseModel):
    value: str | int = Field(examples=["Kết luận"])
    count: int = Field(ge=0, examples=[3])


class Facets(BaseModel):
    type: list[FacetValue]
    issuer: list[FacetValue]
    year: list[FacetValue]


class DocumentSearchPage(ListPage[SearchHit]):
    facets: Facets


class Suggestion(BaseModel):
    id: str
    number: str = Field(examples=["100-KL/TW"])
    type: str = Field(examples=["Kết luận"])
    title: str
    issued_date: str | None = None


class Suggestions(BaseModel):
    items: list[Suggestion]


class DocumentSummary(BaseModel):
    id: str
    number: str
    type: str
    title: str
    issued_date: str | None = None


class DocumentRelation(BaseModel):
    relation: str = Field(examples=["based_on"],
                          description="`based_on`, `amends`, `replaces` or `guides`")
    direction: str = Field(examples=["outgoing"], description="`outgoing`: this document states "
                           "it; `incoming`: another document states it about this one")
    label: str = Field(examples=["Căn cứ"])
    number: str = Field(examples=["45/2019/QH14"])
    document: DocumentSummary | None = Field(None, description="None while the other document "
                                             "is not in the register")


class Attachment(BaseModel):
    id: str
    filename: str = Field(examples=["100-KL-TW.pdf"])
    content_type: str = Field(examples=["application/pdf"])
    size: int = Field(ge=0)


class Document(BaseModel):
    id: str
    number: str = Field(examples=["100-KL/TW"])
    type: str = Field(examples=["Kết luận"])
    issuer: str = Field(examples=["Ban Bí thư (khóa XI)"])
    signer: str | None = None
    issued_date: date | None = Field(None, examples=["2014-05-08"])
    effective_date: date | None = None
    status: str = Field(examples=["in_force"])
    status_label: str = Field(examples=["Còn hiệu lực"])
    fields: list[str] = []
    title: str
    text: str = ""
    attachments: list[Attachment] = []
    relations: list[DocumentRelation] = []


class Removed(BaseModel):
    id: str = Field(examples=["6f1c0e9b2a4d4b8e9d3c7a1b2c3d4e5f"])
    removed: bool = Field(True, examples=[True])


def _rpc():
    return current_app.extensions["rpc"]


@bp.get("/documents/search")
@operation(tags=["documents"], query=DocumentSearchQuery, response=DocumentSearchPage,
           cached=True)
@cached("documents")
def search_documents():
    """Look documents up by words, number and filters; hits with highlights and facets.

    ``q`` is optional (without it: the newest first). Numbers match in any spelling
    ("100-KL/TW", "100 KL/TW", "kl 100", "kết luận 100", "nghi dinh 43/2013"). Filters:
    ``type`` (a known type, diacritics optional), ``issuer``, ``year``, ``from``/``to`` (issued
    between, YYYY-MM-DD), ``status``, ``field``; ``sort`` = ``relevance`` or ``date``. Facets
    count the matching documents by type, issuer and year. 422 names the bad parameter
    (unknown type, malformed date, page × per_page above 10,000); 503 when the search engine
    is down."""
    query = query_args(DocumentSearchQuery)
    return jsonify(_rpc().call("documents", "search_documents",
                               query.model_dump(mode="json", by_alias=True)))


@bp.get("/documents/suggest")
@operation(tags=["documents"], query=SuggestQuery, response=Suggestions, cached=True)
@cached("documents")
def suggest_documents():
    """Suggestions while the user types a title or a number ("ket lu", "100-K", "kl 10")."""
    query = query_args(SuggestQuery)
    return jsonify(_rpc().call("documents", "suggest", query.model_dump(mode="json")))


@bp.get("/documents/<document_id>")
@operation(tags=["documents"], response=Document, cached=True)
@cached("documents")
def get_document(document_id: str):
    """One document: full text, attachments, and its relations both ways (căn cứ, sửa đổi,
    thay thế, hướng dẫn — and what other documents state about it); 404 if none."""
    return jsonify(_rpc().call("documents", "get_document", document_id))


@bp.post("/documents")
@operation(tags=["documents"], body=DocumentIn, response=Document, status=201, errors=(409,))
@require_roles("admin", "editor")
def create_document():
    """Register a document (editor, admin): 201; 409 if its number is already registered;
    422 for an unknown type or a malformed date."""
    body = json_body(DocumentIn).model_dump(mode="json")
    return jsonify(_rpc().call("documents", "create_document", body)), 201


@bp.patch("/documents/<document_id>")
@operation(tags=["documents"], body=DocumentPatch, response=Document)
@require_roles("admin", "editor")
def update_document(document_id: str):
    """Change a document (editor, admin): validity status, dates, title, text, relations …;
    404 if none; 422 for an unknown type, a malformed date or an empty change."""
    body = json_body(DocumentPatch).model_dump(mode="json", exclude_unset=True)
    return jsonify(_rpc().call("documents", "update_document", document_id, body))


@bp.delete("/documents/<document_id>")
@operation(tags=["documents"], response=Removed)
@require_roles("admin", "editor")
def remove_document(document_id: str):
    """Withdraw a document from the register and from search (editor, admin); 404 if none."""
    return jsonify(_rpc().call("documents", "remove_document", document_id))


@bp.post("/documents/<document_id>/attachments")
@operation(tags=["documents"], response=Document, status=201,
           body_media_type="multipart/form-data",
           body_schema={"type": "object", "required": ["file"], "properties": {
               "file": {"type": "string", "format": "binary",
                        "description": "A PDF or DOCX original"}}})
@require_roles("admin", "editor")
def add_attachment(document_id: str):
    """Attach a PDF or DOCX original (editor, admin); its text becomes searchable: 201.

    413 above ``ATTACHMENT_MAX_BYTES``; 415 for anything but PDF or DOCX; 422 without a file
    or when the file cannot be read."""
    request.max_content_length = current_app.config["SETTINGS"].attachment_max_bytes
    if not request.mimetype == "multipart/form-data":
        raise UnsupportedMediaType("send the file as multipart/form-data in the field `file`")
    upload = request.files.get("file")  # past the limit: RequestEntityTooLarge, a 413 problem
    if upload is None or not upload.filename:
        raise Invalid("invalid input", [{"field": "file", "message": "a file is required"}])
    filename = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:200]
    extension = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    data = upload.read()
    if extension not in ATTACHMENT_TYPES or not _looks_like(extension, data):
        raise UnsupportedMediaType("only PDF (.pdf) and Word (.docx) files are accepted")
    return jsonify(_rpc().call("documents", "add_attachment", document_id, filename,
                               ATTACHMENT_TYPES[extension],
                               base64.b64encode(data).decode())), 201


def _looks_like(extension: str, data: bytes) -> bool:
    return data.startswith(b"%PDF-") if extension == ".pdf" else data.startswith(b"PK\x03\x04")


@bp.get("/documents/<document_id>/attachments/<attachment_id>")
@operation(tags=["documents"], media_type="application/octet-stream",
           response_schema={"type": "string", "format": "binary"})
def download_attachment(document_id: str, attachment_id: str):
    """The original file as it was uploaded (PDF or DOCX); 404 if none."""
    found = _rpc().call("documents", "get_attachment", document_id, attachment_id)
    response = Response(base64.b64decode(found["data_b64"]), mimetype=found["content_type"])
    response.headers["Content-Disposition"] = _disposition(found["filename"])
    return response


def _disposition(filename: str) -> str:
    from urllib.parse import quote

    ascii_name = filename.encode("ascii", "ignore").decode().replace('"', "") or "attachment"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
