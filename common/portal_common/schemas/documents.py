"""Payloads of the documents service: the register and search."""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class DocumentIn(BaseModel):
    """A document of the register ("Tra cứu văn bản")."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    number: str = Field(min_length=1, max_length=100, examples=["100-KL/TW"])
    type: str = Field(min_length=1, max_length=60, examples=["Kết luận"])
    issuer: str = Field(min_length=1, max_length=200, examples=["Ban Bí thư"])
    issued_date: date | None = None
    title: str = Field(min_length=3, max_length=1000)
    text: str = Field("", max_length=2_000_000)


class SearchQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    q: str = Field(min_length=1, max_length=200)
    kind: str | None = Field(None, pattern="^(article|document)$")
    page: int = Field(1, ge=1, le=100)
    per_page: int = Field(10, ge=1, le=50)
