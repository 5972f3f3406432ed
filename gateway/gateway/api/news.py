"""News: categories and articles. Public reads are cached (invalidated by ``news.events``);
editors and admins write, schedule, publish, withdraw and delete, and read every revision.

A path segment after ``/news/`` is an article's id (32 hex digits) or its slug; no slug ever
looks like an id, so staff routes accept either and ``GET /news/{slug}`` also finds an id.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify
from pydantic import BaseModel, Field

from gateway.accounts import require_roles
from gateway.caching import cached
from gateway.contract import ListPage, operation
from gateway.inputs import json_body, query_args
from portal_common.schemas import Page
from portal_common.schemas.news import (ArticleDraft, ArticlePatch, CategoryIn, MostReadQuery,
                                        NewsListQuery, ScheduleIn, StaffNewsQuery)

bp = Blueprint("news", __name__, url_prefix="/api/v1")
WRITERS = ("admin", "editor")


# -- query models ----------------------------------------------------------------------------
class PageQuery(Page):
    per_page: int = Field(50, ge=1, le=100)


# -- response models -------------------------------------------------------------------------
class Category(BaseModel):
    slug: str = Field(examples=["ban-tuyen-giao"])
    name: str = Field(examples=["Ban Tuyên giáo"])
    parent: str | None = Field(None, examples=["tin-tuc-su-kien"])
    order: int = 0
    depth: int = Field(0, description="0 for a top-level category")


class CategoryList(BaseModel):
    items: list[Category]


class Crumb(BaseModel):
    slug: str = Field(examples=["tin-tuc-su-kien"])
    name: str = Field(examples=["Tin tức - Sự kiện"])


class Byline(BaseModel):
    author: str | None = Field(None, examples=["Tiến Sỹ"])
    photo: str | None = Field(None, examples=["Đồng Hồng - PT"])


class Cover(BaseModel):
    media_id: str
    caption: str | None = None
    credit: str | None = None
    alt: str | None = None


class RelatedArticle(BaseModel):
    id: str
    slug: str
    title: str
    published_at: str | None = None
    cover: Cover | None = None


class ArticleSummary(BaseModel):
    id: str
    slug: str = Field(examples=["ket-qua-sau-5-nam-thuc-hien-ket-luan-100-kl-tw"])
    title: str
    summary: str = ""
    category: str = Field(examples=["ban-tuyen-giao"])
    breadcrumb: list[Crumb] = []
    credits: str | None = Field(None, examples=["Bài: Tiến Sỹ; Ảnh: Đồng Hồng - PT"])
    byline: Byline
    source_unit: str | None = Field(None, examples=["LĐLĐ tỉnh Lào Cai"])
    tags: list[str] = []
    cover: Cover | None = None
    status: str = Field(examples=["published"])
    revision: int
    published_at: str | None = Field(None, examples=["2020-01-18T02:00:00.000Z"])
    updated_at: str | None = None


class Article(ArticleSummary):
    body_html: str
    related: list[RelatedArticle] = Field(description="Các tin khác: the nearest published "
                                          "articles of the same category")


class StaffArticleSummary(ArticleSummary):
    publish_at: str | None = Field(None, description="when a scheduled article goes live")
    created_at: str | None = None
    created_by: str | None = None
    updated_by: str | None = None
    slug_locked: bool = Field(description="true once published: the slug never changes again")


class StaffArticle(StaffArticleSummary):
    body_html: str
    views: int | None = None


class MostReadArticle(ArticleSummary):
    views: int


class MostRead(BaseModel):
    items: list[MostReadArticle]
    days: int


class Change(BaseModel):
    field: str = Field(examples=["title"])
    before: Any = None
    after: Any = None


class Revision(BaseModel):
    article_id: str
    revision: int
    action: str = Field(examples=["updated"], description="created, updated, scheduled, "
                        "unscheduled, published, unpublished or deleted")
    by: str = Field(examples=["bientap1"])
    at: str = Field(examples=["2026-11-26T08:15:00.123Z"])
    changes: list[Change]


def _rpc():
    return current_app.extensions["rpc"]


def _actor() -> str:
    return g.user["sub"]


# -- categories ------------------------------------------------------------------------------
@bp.get("/categories")
@operation(tags=["news"], response=CategoryList, cached=True)
@cached("news", ttl=1)
def list_categories():
    """The category tree, parents before their children: ``[{slug, name, parent, order,
    depth}]``. Category changes emit no event: the answer is kept at most a second."""
    return jsonify(items=_rpc().call("news", "list_categories"))


@bp.post("/categories")
@operation(tags=["news"], body=CategoryIn, response=Category)
@require_roles(*WRITERS)
def save_category():
    """Create or change a category (editor, admin). 422 for an unknown parent or a cycle."""
    return jsonify(_rpc().call("news", "ensure_category", json_body(CategoryIn).model_dump()))


@bp.delete("/categories/<slug>")
@operation(tags=["news"], status=204, errors=(409,))
@require_roles(*WRITERS)
def delete_category(slug: str):
    """Delete an empty category (editor, admin); 409 while it holds articles or children."""
    _rpc().call("news", "delete_category", slug)
    return Response(status=204)


# -- public reads ----------------------------------------------------------------------------
@bp.get("/news")
@operation(tags=["news"], query=NewsListQuery, response=ListPage[ArticleSummary], cached=True)
@cached("news")
def list_news():
    """Published articles, newest first: ``{items, page, per_page, total}``. A category
    includes its sub-categories; 422 for an unknown category or bad paging."""
    query = query_args(NewsListQuery)
    return jsonify(_rpc().call("news", "list_articles", query.category, query.page,
                               query.per_page, query.tag))


@bp.get("/news/most-read")
@operation(tags=["news"], query=MostReadQuery, response=MostRead, cached=True)
@cached("news", ttl=30)
def most_read():
    """The most read published articles of the last ``days`` days, from the page views
    analytics receives (``gateway.page_viewed``); refreshed at least every 30 seconds."""
    query = query_args(MostReadQuery)
    return jsonify(_rpc().call("news", "most_read", query.days, query.limit, query.category))


@bp.get("/news/<slug>")
@operation(tags=["news"], response=Article, cached=True)
@cached("news")
def get_news(slug: str):
    """One published article with ``breadcrumb``, ``byline`` and ``related`` ("Các tin
    khác"); 404 if there is none (drafts and withdrawn articles are not public)."""
    return jsonify(_rpc().call("news", "get_article", slug))


# -- staff -----------------------------------------------------------------------------------
@bp.post("/news")
@operation(tags=["news"], body=ArticleDraft, response=StaffArticle, status=201)
@require_roles(*WRITERS)
def create_news():
    """Create a draft (editor, admin): 201 with the article. 422 names each invalid field
    (an unknown category or cover image included)."""
    article = _rpc().call("news", "create_article", json_body(ArticleDraft).model_dump(),
                          _actor())
    return jsonify(article), 201


@bp.patch("/news/<article_id>")
@operation(tags=["news"], body=ArticlePatch, response=StaffArticle, errors=(409,))
@require_roles(*WRITERS)
def update_news(article_id: str):
    """Change an article (editor, admin): only the fields sent change. A published article
    announces ``article_updated``; its slug never changes (409 if asked). With
    ``expected_revision``, 409 if someone changed the article meanwhile."""
    patch = json_body(ArticlePatch)
    return jsonify(_rpc().call("news", "update_article", article_id,
                               patch.model_dump(exclude_unset=True), _actor()))


@bp.delete("/news/<article_id>")
@operation(tags=["news"], status=204, errors=(409,))
@require_roles(*WRITERS)
def delete_news(article_id: str):
    """Delete a draft, scheduled or withdrawn article (editor, admin): it disappears from
    every list but is kept with its revisions, and its slug is never reused. A published
    article is refused with 409: unpublish it first, so no live page vanishes by one click."""
    _rpc().call("news", "delete_article", article_id, _actor())
    return Response(status=204)


@bp.post("/news/<article_id>/publish")
@operation(tags=["news"], response=StaffArticle, errors=(409,))
@require_roles(*WRITERS)
def publish_news(article_id: str):
    """Publish now (editor, admin); publishing twice is harmless. A withdrawn article comes
    back with its slug and first publication date."""
    return jsonify(_rpc().call("news", "publish_article", article_id, _actor()))


@bp.post("/news/<article_id>/unpublish")
@operation(tags=["news"], response=StaffArticle, errors=(409,))
@require_roles(*WRITERS)
def unpublish_news(article_id: str):
    """Withdraw a published article (editor, admin; ``article_unpublished``), or cancel the
    schedule of a scheduled one (it becomes a draft again)."""
    return jsonify(_rpc().call("news", "unpublish_article", article_id, _actor()))


@bp.post("/news/<article_id>/schedule")
@operation(tags=["news"], body=ScheduleIn, response=StaffArticle, errors=(409,))
@require_roles(*WRITERS)
def schedule_news(article_id: str):
    """Publish automatically at ``publish_at`` (editor, admin): a future time with its zone.
    422 for a past time, 409 for an article already published."""
    body = json_body(ScheduleIn)
    return jsonify(_rpc().call("news", "schedule_article", article_id,
                               {"publish_at": body.publish_at.isoformat()}, _actor()))


@bp.get("/news/<article_id>/revisions")
@operation(tags=["news"], query=PageQuery, response=ListPage[Revision])
@require_roles(*WRITERS)
def list_news_revisions(article_id: str):
    """Every change of an article, newest first (editor, admin): who, when, which action,
    and each changed field before and after."""
    query = query_args(PageQuery)
    return jsonify(_rpc().call("news", "list_revisions", article_id, query.page, query.per_page))


@bp.get("/newsroom/articles")
@operation(tags=["news"], query=StaffNewsQuery, response=ListPage[StaffArticleSummary])
@require_roles(*WRITERS)
def list_newsroom():
    """Every article of the newsroom, last changed first (editor, admin): drafts, scheduled,
    published and withdrawn; ``status=deleted`` shows the deleted ones."""
    query = query_args(StaffNewsQuery)
    return jsonify(_rpc().call("news", "list_articles_for_staff", query.status, query.category,
                               query.page, query.per_page))


@bp.get("/newsroom/articles/<article_id>")
@operation(tags=["news"], response=StaffArticle)
@require_roles(*WRITERS)
def get_newsroom_article(article_id: str):
    """Any article by id or slug, whatever its status (editor, admin), with its view count."""
    return jsonify(_rpc().call("news", "get_article_by_id", article_id))
