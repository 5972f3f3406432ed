"""Payloads of the documents service: the register, document search and site-wide search.

The vocabularies (document types, validity statuses, relations) live here once: the gateway
validates filters with them, the service validates what it stores.
"""
from __future__ import annotations

import unicodedata
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

# canonical type name → its usual code in numbers (None: numbers of that type carry no code)
DOCUMENT_TYPES: dict[str, str | None] = {
    "Hiến pháp": None, "Bộ luật": None, "Luật": None, "Pháp lệnh": "PL",
    "Nghị quyết": "NQ", "Nghị quyết liên tịch": "NQLT", "Kết luận": "KL", "Chỉ thị": "CT",
    "Quyết định": "QĐ", "Quy định": "QĐ", "Nghị định": "NĐ", "Thông tư": "TT",
    "Thông tư liên tịch": "TTLT", "Hướng dẫn": "HD", "Kế hoạch": "KH", "Công văn": "CV",
    "Công điện": "CĐ", "Thông báo": "TB", "Thông tri": "TT", "Quy chế": "QC", "Báo cáo": "BC",
    "Chương trình": "CTr", "Đề án": "ĐA", "Điều lệ": "ĐL", "Tờ trình": "TTr",
    "Văn bản hợp nhất": "VBHN",
}

VALIDITY_STATUSES: dict[str, str] = {
    "in_force": "Còn hiệu lực",
    "partially_expired": "Hết hiệu lực một phần",
    "expired": "Hết hiệu lực toàn bộ",
    "not_yet_in_force": "Chưa có hiệu lực",
    "suspended": "Ngưng hiệu lực",
    "unknown": "Không xác định",
}
Status = Literal["in_force", "partially_expired", "expired", "not_yet_in_force", "suspended",
                 "unknown"]

RELATIONS: dict[str, tuple[str, str]] = {
    # relation → (label seen from the document that states it, label seen from its target)
    "based_on": ("Căn cứ", "Là căn cứ của"),
    "amends": ("Sửa đổi, bổ sung", "Được sửa đổi, bổ sung bởi"),
    "replaces": ("Thay thế", "Bị thay thế bởi"),
    "guides": ("Hướng dẫn", "Được hướng dẫn bởi"),
}
Relation = Literal["based_on", "amends", "replaces", "guides"]

# Elasticsearch's default index.max_result_window: deeper pages are refused with 422
MAX_RESULT_WINDOW = 10_000


def fold(text: str) -> str:
    """Lower case without diacritics; đ → d ("Quyết định" → "quyet dinh")."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


_FOLDED_TYPES = {fold(name): name for name in DOCUMENT_TYPES}


def canonical_type(value: str) -> str | None:
    """"ket luan", "KẾT LUẬN", "Kết luận" → "Kết luận"; an unknown type → None."""
    return _FOLDED_TYPES.get(" ".join(fold(value).split()))


def _known_type(value: str | None) -> str | None:
    if value is None:
        return None
    name = canonical_type(value)
    if name is None:
        raise ValueError(f"unknown document type '{value}'; known types: "
                         + ", ".join(DOCUMENT_TYPES))
    return name


class RelationIn(BaseModel):
    """"This document ``relation`` the document numbered ``number``" (it may be registered later)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    relation: Relation = Field(examples=["based_on"])
    number: str = Field(min_length=1, max_length=100, examples=["45/2019/QH14"])


class DocumentIn(BaseModel):
    """A document of the register ("Tra cứu văn bản")."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    number: str = Field(min_length=1, max_length=100, examples=["100-KL/TW"])
    type: str = Field(min_length=1, max_length=60, examples=["Kết luận"],
                      description="One of the known types, any case, diacritics optional")
    issuer: str = Field(min_length=1, max_length=200, examples=["Ban Bí thư"])
    signer: str | None = Field(None, max_length=200, examples=["Lê Hồng Anh"])
    issued_date: date | None = None
    effective_date: date | None = None
    status: Status = Field("in_force", description="Validity: " + ", ".join(
        f"`{k}` ({v})" for k, v in VALIDITY_STATUSES.items()))
    fields: list[str] = Field([], max_length=10, examples=[["Công đoàn", "Lao động"]],
                              description="Lĩnh vực")
    title: str = Field(min_length=3, max_length=1000)
    text: str = Field("", max_length=2_000_000)
    relations: list[RelationIn] = Field([], max_length=50)

    _type = field_validator("type")(classmethod(lambda cls, v: _known_type(v)))

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: list[str]) -> list[str]:
        cleaned = [" ".join(v.split()) for v in value if v and v.strip()]
        if any(len(v) > 100 for v in cleaned):
            raise ValueError("a field name has at most 100 characters")
        return list(dict.fromkeys(cleaned))


class DocumentPatch(BaseModel):
    """A change to a registered document (its number stays: a new number is a new document)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: str | None = Field(None, min_length=1, max_length=60)
    issuer: str | None = Field(None, min_length=1, max_length=200)
    signer: str | None = Field(None, max_length=200)
    issued_date: date | None = None
    effective_date: date | None = None
    status: Status | None = None
    fields: list[str] | None = Field(None, max_length=10)
    title: str | None = Field(None, min_length=3, max_length=1000)
    text: str | None = Field(None, max_length=2_000_000)
    relations: list[RelationIn] | None = Field(None, max_length=50)

    _type = field_validator("type")(classmethod(lambda cls, v: _known_type(v)))
    _fields = field_validator("fields")(classmethod(
        lambda cls, v: None if v is None else DocumentIn._fields(v)))

    @field_validator("type", "issuer", "title", "status", mode="after")
    @classmethod
    def _not_null(cls, value):
        if value is None:
            raise ValueError("may be changed, not removed")
        return value

    @field_validator("fields", "relations", mode="after")
    @classmethod
    def _null_is_empty(cls, value):
        return [] if value is None else value  # `"relations": null` clears them

    @field_validator("text", mode="after")
    @classmethod
    def _null_text_is_empty(cls, value):
        return "" if value is None else value


class _Paged(BaseModel):
    per_page: int = Field(10, ge=1, le=100)
    page: int = Field(1, ge=1, le=MAX_RESULT_WINDOW)

    @field_validator("page")
    @classmethod
    def _window(cls, page: int, info: ValidationInfo) -> int:
        if page * info.data.get("per_page", 1) > MAX_RESULT_WINDOW:
            raise ValueError(f"page × per_page may not exceed {MAX_RESULT_WINDOW}; "
                             "narrow the query instead")
        return page


class DocumentSearchQuery(_Paged):
    """Document lookup: a query (optional: without it, the newest documents) and filters."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    q: str | None = Field(None, min_length=1, max_length=200, examples=["kết luận 100"])
    type: str | None = Field(None, max_length=60, examples=["Kết luận"])
    issuer: str | None = Field(None, min_length=1, max_length=200, examples=["Ban Bí thư"])
    year: int | None = Field(None, ge=1900, le=2100, examples=[2014])
    from_: date | None = Field(None, alias="from", description="Issued on or after (YYYY-MM-DD)")
    to: date | None = Field(None, description="Issued on or before (YYYY-MM-DD)")
    status: Status | None = None
    field: str | None = Field(None, min_length=1, max_length=100, description="Lĩnh vực")
    sort: Literal["relevance", "date"] | None = Field(
        None, description="`relevance` (default with `q`) or `date` (newest first; default without)")

    _type = field_validator("type")(classmethod(lambda cls, v: _known_type(v)))

    @field_validator("to")
    @classmethod
    def _range(cls, to: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("from_")
        if to and start and start > to:
            raise ValueError("`to` is before `from`")
        return to


class SiteSearchQuery(_Paged):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    q: str = Field(min_length=1, max_length=200, examples=["du luan xa hoi"])
    kind: Literal["article", "document"] | None = None


class SuggestQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    q: str = Field(min_length=1, max_length=100, examples=["ket lu"])
    limit: int = Field(8, ge=1, le=20)
