"""News: categories and articles (public reads; editors and admins write)."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify
from pydantic import BaseModel, ConfigDict, Field

from gateway.accounts import require_roles
from gateway.caching import cached
from gateway.contract import ListPage, operation
from gateway.inputs import json_body, query_args
from portal_common.schemas.news import ArticleDraft

bp = Blueprint("news", __name__, url_prefix="/api/v1")


class NewsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str | None = Field(None, max_length=120)
    page: int = Field(1, ge=1, le=10_000)
    per_page: int = Field(20, ge=1, le=100)


class Category(BaseModel):
    slug: str = Field(examples=["ban-tuyen-giao"])
    name: str = Field(examples=["Ban Tuyên giáo"])
    parent: str | None = Field(None, examples=["tin-tuc-su-kien"])
    order: int = 0


class CategoryList(BaseModel):
    items: list[Category]


class Crumb(BaseModel):
    slug: str = Field(examples=["tin-tuc-su-kien"])
    name: str = Field(examples=["Tin tức - Sự kiện"])


class RelatedArticle(BaseModel):
    id: str
    slug: str
    title: str
    published_at: str | None = None


class ArticleSummary(BaseModel):
    id: str
    slug: str = Field(examples=["ket-qua-sau-5-nam-thuc-hien-ket-luan-100-kl-tw"])
    title: str
    summary: str = ""
    category: str = Field(examples=["ban-tuyen-giao"])
    breadcrumb: list[Crumb] = []
    credits: str | None = None
    source_unit: str | None = None
    tags: list[str] = []
    status: str = Field(examples=["published"])
    revision: int
    published_at: str | None = Field(None, examples=["2020-10-15T02:00:00.000Z"])
    updated_at: str | None = None


class Article(ArticleSummary):
    body_html: str
    related: list[RelatedArticle] | None = None


def _rpc():
    return current_app.extensions["rpc"]


@bp.get("/categories")
@operation(tags=["news"], response=CategoryList, cached=True)
@cached("news")
def list_categories():
    """The category tree as a flat list ``[{slug, name, parent, order}]``."""
    return jsonify(items=_rpc().call("news", "list_categories"))


@bp.get("/news")
@operation(tags=["news"], query=NewsQuery, response=ListPage[ArticleSummary], cached=True)
@cached("news")
def list_news():
    """Published articles, newest first: ``{items, page, per_page, total}``. 422 on bad paging."""
    query = query_args(NewsQuery)
    return jsonify(_rpc().call("news", "list_articles", query.category, query.page,
                               query.per_page))


@bp.get("/news/<slug>")
@operation(tags=["news"], response=Article, cached=True)
@cached("news")
def get_news(slug: str):
    """One published article with ``breadcrumb`` and ``related``; 404 if none."""
    return jsonify(_rpc().call("news", "get_article", slug))


@bp.post("/news")
@operation(tags=["news"], body=ArticleDraft, response=Article, status=201)
@require_roles("admin", "editor")
def create_news():
    """Create a draft (editor, admin): 201 with the article. 422 names each invalid field."""
    article = _rpc().call("news", "create_article", json_body(ArticleDraft).model_dump(),
                          g.user["sub"])
    return jsonify(article), 201


@bp.post("/news/<article_id>/publish")
@operation(tags=["news"], response=Article)
@require_roles("admin", "editor")
def publish_news(article_id: str):
    """Publish a draft (editor, admin); publishing twice is harmless. 404 if unknown."""
    return jsonify(_rpc().call("news", "publish_article", article_id, g.user["sub"]))
