"""Payloads of the news service: what editors send through the gateway and over RPC."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from portal_common.schemas import SLUG_PATTERN


class ArticleDraft(BaseModel):
    """A new article. ``body_html`` is sanitised before it is stored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=3, max_length=300,
                       examples=["Kết quả sau 5 năm thực hiện Kết luận 100-KL/TW"])
    summary: str = Field("", max_length=2000)
    body_html: str = Field(min_length=1, max_length=1_000_000)
    category: str = Field(pattern=SLUG_PATTERN, max_length=120, examples=["ban-tuyen-giao"])
    credits: str | None = Field(None, max_length=300, examples=["Bài: Tiến Sỹ; Ảnh: Đồng Hồng - PT"])
    source_unit: str | None = Field(None, max_length=200, examples=["LĐLĐ tỉnh Lào Cai"])
    tags: list[str] = Field(default_factory=list, max_length=30)


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    slug: str = Field(pattern=SLUG_PATTERN, max_length=120)
    name: str = Field(min_length=1, max_length=200)
    parent: str | None = Field(None, pattern=SLUG_PATTERN)
    order: int = Field(0, ge=0, le=10_000)


class Page(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page: int = Field(1, ge=1, le=10_000)
    per_page: int = Field(20, ge=1, le=100)
