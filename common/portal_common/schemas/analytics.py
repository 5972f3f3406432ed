"""Payloads of the analytics service: polls and the staff summary, for the gateway and RPC."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_SUMMARY_DAYS = 366


class PollDraft(BaseModel):
    """A new poll: a question, 2–20 distinct options, an optional voting window and whether
    the public sees results while it is open (``always``) or only once it closed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    question: str = Field(min_length=3, max_length=500,
                          examples=["Bạn quan tâm mục gì nhất trong website của chúng tôi?"])
    options: list[str] = Field(min_length=2, max_length=20,
                               examples=[["Tin Tức - Sự Kiện", "Tra cứu văn bản"]])
    opens_at: datetime | None = Field(None, description="Voting opens (default: now).",
                                      examples=["2026-12-01T00:00:00Z"])
    closes_at: datetime | None = Field(None, description="Voting closes (default: never).",
                                       examples=["2026-12-31T17:00:00Z"])
    results_visibility: Literal["always", "after_close"] = "always"

    @field_validator("options")
    @classmethod
    def _distinct_labels(cls, options: list[str]) -> list[str]:
        cleaned = [option.strip() for option in options]
        if any(not label or len(label) > 200 for label in cleaned):
            raise ValueError("each option needs 1 to 200 characters")
        if len({label.casefold() for label in cleaned}) != len(cleaned):
            raise ValueError("options must be distinct")
        return cleaned

    @field_validator("opens_at", "closes_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone (e.g. 2026-12-01T00:00:00Z)")
        return value.astimezone(timezone.utc) if value else None

    @model_validator(mode="after")
    def _window(self):
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValueError("closes_at must be after opens_at")
        return self


class VoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    option_id: str = Field(min_length=1, max_length=40, examples=["o1"])


class SummaryRange(BaseModel):
    """Local days (Asia/Ho_Chi_Minh), both included; at most 366 days."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: date = Field(alias="from", examples=["2026-11-01"])
    to: date = Field(examples=["2026-11-30"])

    @model_validator(mode="after")
    def _range(self):
        if self.to < self.from_:
            raise ValueError("'to' must not be before 'from'")
        if (self.to - self.from_).days + 1 > MAX_SUMMARY_DAYS:
            raise ValueError(f"at most {MAX_SUMMARY_DAYS} days at once")
        return self
