"""Site-wide search over news articles and documents."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from pydantic import BaseModel, Field

from gateway.caching import cached
from gateway.contract import ListPage, operation
from gateway.inputs import query_args
from portal_common.schemas.documents import SiteSearchQuery

bp = Blueprint("search", __name__, url_prefix="/api/v1")


class Highlight(BaseModel):
    title: str | None = Field(None, examples=["<mark>Kết luận</mark> của Ban Bí thư"])
    text: list[str] = Field([], description="Fragments of the text, matches in `<mark>`")


class SearchHit(BaseModel):
    kind: str = Field(examples=["document"], description="`document` or `article`")
    id: str
    title: str
    slug: str | None = Field(None, description="Articles: the slug of /api/v1/news/{slug}")
    number: str | None = Field(None, examples=["100-KL/TW"])
    type: str | None = Field(None, examples=["Kết luận"], description="Documents: the type")
    issuer: str | None = Field(None, examples=["Ban Bí thư (khóa XI)"])
    status: str | None = Field(None, examples=["in_force"])
    date: str | None = Field(None, description="Issued (documents) or published (articles)")
    score: float | None = None
    highlight: Highlight


@bp.get("/search")
@operation(tags=["search"], query=SiteSearchQuery, response=ListPage[SearchHit], cached=True)
@cached("documents", "news", ttl=1)  # articles are indexed a moment after their news event
def search():
    """Articles and documents matching ``q``: each hit says its ``kind`` and has a ``highlight``.

    Diacritics are optional ("du luan xa hoi"), document numbers match in any spelling
    ("100 kl/tw", "kl 100") and small typos in longer words are forgiven. ``kind`` narrows to
    one kind. 422 without ``q`` or past 10,000 results (page × per_page); 503 when the search
    engine is down."""
    query = query_args(SiteSearchQuery)
    return jsonify(current_app.extensions["rpc"].call(
        "documents", "search", query.q, query.kind, query.page, query.per_page))
