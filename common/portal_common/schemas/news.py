"""Payloads of the news service: what editors send through the gateway and over RPC.

One model per input contract; the gateway validates with them at the HTTP edge and the news
service validates its RPC arguments again with the same models.
"""
from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from portal_common.schemas import SLUG_PATTERN, Page

ID_PATTERN = r"^[0-9a-f]{32}$"
"""Article, album, newsletter and media ids: 32 hex digits. No slug ever has this form, so a
path segment is an id or a slug, never both."""

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MediaRef(BaseModel):
    """An uploaded image (``POST /api/v1/media``) placed somewhere, with its caption."""

    model_config = _STRICT

    media_id: str = Field(pattern=ID_PATTERN)
    caption: str | None = Field(None, max_length=500,
                                examples=["Quang cảnh Hội nghị tuyên vận xã Bảo Nhai, huyện Bắc Hà"])
    credit: str | None = Field(None, max_length=200, examples=["Ảnh: Đồng Hồng - PT"])
    alt: str | None = Field(None, max_length=300)


class ArticleDraft(BaseModel):
    """A new article. ``body_html`` is sanitised before it is stored; ``slug`` is made from the
    title unless given (a clash gets a numeric suffix)."""

    model_config = _STRICT

    title: str = Field(min_length=3, max_length=300,
                       examples=["Kết quả sau 5 năm thực hiện Kết luận 100-KL/TW"])
    summary: str = Field("", max_length=2000)
    body_html: str = Field(min_length=1, max_length=1_000_000)
    category: str = Field(pattern=SLUG_PATTERN, max_length=120, examples=["ban-tuyen-giao"])
    slug: str | None = Field(None, pattern=SLUG_PATTERN, max_length=120)
    credits: str | None = Field(None, max_length=300, examples=["Bài: Tiến Sỹ; Ảnh: Đồng Hồng - PT"])
    source_unit: str | None = Field(None, max_length=200, examples=["LĐLĐ tỉnh Lào Cai"])
    tags: list[str] = Field(default_factory=list, max_length=30)
    cover: MediaRef | None = None

    @model_validator(mode="after")
    def _clean_tags(self):
        self.tags = _tags(self.tags)
        return self


class ArticlePatch(BaseModel):
    """A change to an article: only the fields sent change. ``expected_revision`` makes the
    change fail with 409 if someone else changed the article since the editor loaded it."""

    model_config = _STRICT

    title: str | None = Field(None, min_length=3, max_length=300)
    summary: str | None = Field(None, max_length=2000)
    body_html: str | None = Field(None, min_length=1, max_length=1_000_000)
    category: str | None = Field(None, pattern=SLUG_PATTERN, max_length=120)
    slug: str | None = Field(None, pattern=SLUG_PATTERN, max_length=120)
    credits: str | None = Field(None, max_length=300)
    source_unit: str | None = Field(None, max_length=200)
    tags: list[str] | None = Field(None, max_length=30)
    cover: MediaRef | None = None
    expected_revision: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _something_changes(self):
        if not self.changes():
            raise ValueError("send at least one field to change")
        if self.tags is not None:
            self.tags = _tags(self.tags)
        return self

    def changes(self) -> dict:
        """The fields the editor sent (``cover: null`` removes the cover)."""
        sent = self.model_dump(exclude_unset=True, exclude={"expected_revision"})
        for field in ("title", "body_html", "category", "summary"):
            if field in sent and sent[field] is None:
                sent.pop(field)  # these cannot be emptied
        return sent


class ScheduleIn(BaseModel):
    """Publish automatically at ``publish_at`` (a future time with its zone, e.g. ``+07:00``)."""

    model_config = _STRICT

    publish_at: AwareDatetime = Field(examples=["2026-12-01T07:00:00+07:00"])


class CategoryIn(BaseModel):
    model_config = _STRICT

    slug: str = Field(pattern=SLUG_PATTERN, max_length=120, examples=["ban-tuyen-giao"])
    name: str = Field(min_length=1, max_length=200, examples=["Ban Tuyên giáo"])
    parent: str | None = Field(None, pattern=SLUG_PATTERN, examples=["tin-tuc-su-kien"])
    order: int = Field(0, ge=0, le=10_000)


ARTICLE_STATUSES = ("draft", "scheduled", "published", "unpublished", "deleted")


class NewsListQuery(Page):
    """The public article list (``GET /api/v1/news``, ``news.list_published``)."""

    category: str | None = Field(None, max_length=120, description="a category slug; includes "
                                 "its sub-categories (unknown: 422)")
    tag: str | None = Field(None, max_length=80)


class StaffNewsQuery(Page):
    """The newsroom's article list, any status (``GET /api/v1/staff/news``)."""

    status: str | None = Field(None, pattern="^(" + "|".join(ARTICLE_STATUSES) + ")$")
    category: str | None = Field(None, pattern=SLUG_PATTERN, max_length=120)


class MostReadQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(30, ge=1, le=365, description="count the views of the last N days")
    limit: int = Field(10, ge=1, le=50)
    category: str | None = Field(None, max_length=120)


class MediaQuery(Page):
    kind: str | None = Field(None, pattern="^(image|pdf)$")


class AlbumIn(BaseModel):
    """A photo album ("Album Ảnh"): captioned images in order."""

    model_config = _STRICT

    title: str = Field(min_length=3, max_length=300, examples=["Đại hội Công đoàn tỉnh Lào Cai"])
    description: str = Field("", max_length=5000)
    event_date: date | None = None
    images: list[MediaRef] = Field(min_length=1, max_length=500)
    cover_media_id: str | None = Field(None, pattern=ID_PATTERN,
                                       description="defaults to the first image")
    published: bool = False


class AlbumPatch(BaseModel):
    model_config = _STRICT

    title: str | None = Field(None, min_length=3, max_length=300)
    description: str | None = Field(None, max_length=5000)
    event_date: date | None = None
    images: list[MediaRef] | None = Field(None, min_length=1, max_length=500)
    cover_media_id: str | None = Field(None, pattern=ID_PATTERN)
    published: bool | None = None

    @model_validator(mode="after")
    def _something_changes(self):
        if not self.model_dump(exclude_unset=True):
            raise ValueError("send at least one field to change")
        return self


class NewsletterIn(BaseModel):
    """An issue of the union newsletter ("Bản tin Công đoàn"): number, date, cover image, PDF."""

    model_config = _STRICT

    number: int = Field(ge=1, le=10_000, examples=[3], description="unique within its year")
    issue_date: date = Field(examples=["2020-01-18"])
    title: str = Field("", max_length=300, examples=["Bản tin Công đoàn Lào Cai số 3/2020"])
    summary: str = Field("", max_length=5000)
    cover_media_id: str | None = Field(None, pattern=ID_PATTERN)
    pdf_media_id: str = Field(pattern=ID_PATTERN)
    published: bool = True


class NewsletterPatch(BaseModel):
    model_config = _STRICT

    number: int | None = Field(None, ge=1, le=10_000, examples=[4])
    issue_date: date | None = Field(None, examples=["2020-02-20"])
    title: str | None = Field(None, max_length=300, examples=["Bản tin Công đoàn Lào Cai số 4/2020"])
    summary: str | None = Field(None, max_length=5000)
    cover_media_id: str | None = Field(None, pattern=ID_PATTERN)
    pdf_media_id: str | None = Field(None, pattern=ID_PATTERN)
    published: bool | None = Field(None, examples=[False])

    @model_validator(mode="after")
    def _something_changes(self):
        if not self.model_dump(exclude_unset=True):
            raise ValueError("send at least one field to change")
        return self


class ImportItem(ArticleDraft):
    """One article of an import file: an ``ArticleDraft`` plus where it came from.

    ``source_id`` identifies the item across runs (re-importing it updates, never duplicates);
    ``published_at`` keeps the date of an article that was already public elsewhere."""

    source_id: str = Field(min_length=1, max_length=300, pattern=r"^[^$]")
    published_at: AwareDatetime | None = None
    publish: bool = True


def _tags(tags: list[str]) -> list[str]:
    seen, out = set(), []
    for tag in tags:
        tag = " ".join(str(tag).split())[:80]
        if tag and tag.lower() not in seen:
            seen.add(tag.lower())
            out.append(tag)
    return out


__all__ = ["ID_PATTERN", "MediaRef", "ArticleDraft", "ArticlePatch", "ScheduleIn", "CategoryIn",
           "Page", "AlbumIn", "AlbumPatch", "NewsletterIn", "NewsletterPatch", "ImportItem"]
