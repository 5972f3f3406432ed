"""Site-wide search and the document register."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from pydantic import BaseModel, ConfigDict, Field

from gateway.accounts import require_roles
from gateway.caching import cached
from gateway.contract import ListPage, operation
from gateway.inputs import json_body, query_args
from portal_common.schemas.documents import DocumentIn

bp = Blueprint("search", __name__, url_prefix="/api/v1")


class SearchQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str = Field(min_length=1, max_length=200)
    page: int = Field(1, ge=1, le=100)
    per_page: int = Field(10, ge=1, le=50)


class Highlight(BaseModel):
    title: str | None = Field(None, examples=["<mark>Kết luận</mark> 100-KL/TW"])
    text: list[str] = []


class SearchHit(BaseModel):
    kind: str = Field(examples=["document"], description="`document` or `article`")
    id: str
    title: str
    slug: str | None = None
    number: str | None = Field(None, examples=["100-KL/TW"])
    date: str | None = None
    score: float | None = None
    highlight: Highlight


class Document(BaseModel):
    id: str
    number: str = Field(examples=["100-KL/TW"])
    type: str = Field(examples=["Kết luận"])
    issuer: str = Field(examples=["Ban Bí thư"])
    issued_date: str | None = Field(None, examples=["2014-05-08"])
    title: str
    text: str = ""


def _rpc():
    return current_app.extensions["rpc"]


@bp.get("/search")
@operation(tags=["search"], query=SearchQuery, response=ListPage[SearchHit], cached=True)
@cached("documents", "news", ttl=1)  # articles are indexed a moment after their news event
def search():
    """Articles and documents matching ``q`` (diacritics optional): ``{items, page, per_page,
    total}``, each hit with ``kind`` and ``highlight``. 422 without ``q``."""
    query = query_args(SearchQuery)
    return jsonify(_rpc().call("documents", "search", query.q, None, query.page, query.per_page))


@bp.get("/documents/<document_id>")
@operation(tags=["documents"], response=Document, cached=True)
@cached("documents")
def get_document(document_id: str):
    """One document of the register with its full text; 404 if none."""
    return jsonify(_rpc().call("documents", "get_document", document_id))


@bp.post("/documents")
@operation(tags=["documents"], body=DocumentIn, response=Document, status=201, errors=(409,))
@require_roles("admin", "editor")
def create_document():
    """Register a document (editor, admin): 201; 409 if its number is already registered."""
    body = json_body(DocumentIn).model_dump(mode="json")
    return jsonify(_rpc().call("documents", "create_document", body)), 201

