"""The feedback contracts shared by the gateway and the feedback service.

* the three ways in (public submissions, collaborators' opinion reports, records staff enter
  from dialogues and citizen-reception meetings) and the intake message the gateway puts on
  the durable queue ``feedback.intake``;
* tracking codes: ``GY-7KQ4-M2XD`` (a prefix per kind, then 8 characters drawn with
  ``secrets`` from an alphabet without look-alikes: no 0/O, 1/I/L);
* staff changes (PATCH), the taxonomy, the unit tree, routing rules and report periods.
"""
from __future__ import annotations

import re
import secrets
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from portal_common.schemas import Page

KINDS = ("feedback", "question", "petition", "opinion_report")
Kind = Literal["feedback", "question", "petition", "opinion_report"]
PublicKind = Literal["feedback", "question", "petition"]
STATUSES = ("received", "assigned", "in_progress", "answered", "closed", "rejected", "duplicate")
Status = Literal["received", "assigned", "in_progress", "answered", "closed", "rejected",
                 "duplicate"]
OPEN_STATUSES = ("received", "assigned", "in_progress")
RESOLVED_STATUSES = ("answered", "closed", "rejected", "duplicate")
Channel = Literal["public", "collaborator", "staff"]
Mood = Literal["positive", "stable", "worried", "frustrated"]
MeetingKind = Literal["dialogue", "citizen_reception"]

MAX_TEXT = 5000
SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"

# --- tracking codes -------------------------------------------------------------------------
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 symbols: no 0/O, 1/I/L look-alikes
KIND_PREFIX = {"feedback": "GY", "question": "HD", "petition": "KN", "opinion_report": "DL"}
TRACKING_CODE = re.compile(r"^(GY|HD|KN|DL)-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$")


def new_tracking_code(kind: str) -> str:
    """``GY-7KQ4-M2XD``: 8 symbols of 31 (≈ 40 bits) from ``secrets``, unguessable in practice
    behind the lookup's rate limit, and easy to read aloud over the phone."""
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{KIND_PREFIX[kind]}-{body[:4]}-{body[4:]}"


def normalise_tracking_code(raw: str) -> str | None:
    """What a person types (``gy 7kq4m2xd``, ``GY-7KQ4-M2XD``) → the canonical code, or None."""
    compact = re.sub(r"[\s\-_.]", "", (raw or "").upper())
    if len(compact) != 10:
        return None
    code = f"{compact[:2]}-{compact[2:6]}-{compact[6:]}"
    return code if TRACKING_CODE.match(code) else None


# --- submissions ---------------------------------------------------------------------------
class Contact(BaseModel):
    """How to reach the sender; every field optional. Visible to staff only."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(None, max_length=120, examples=["Nguyễn Văn A"])
    phone: str | None = Field(None, max_length=20, pattern=r"^\+?[0-9 .\-()]{6,20}$",
                              examples=["0912 345 678"])
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                              examples=["a.nguyen@example.vn"])
    workplace: str | None = Field(None, max_length=200, examples=["Công ty CP Apatit, Bát Xát"])

    def is_empty(self) -> bool:
        return not any((self.name, self.phone, self.email, self.workplace))


class _Text(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=10, max_length=MAX_TEXT,
                      examples=["Công ty chậm đóng bảo hiểm xã hội cho công nhân 3 tháng nay."])


class Submission(_Text):
    """A public feedback, question or petition (``POST /api/v1/feedback``); anonymous allowed.

    ``website`` is a honeypot: the form hides it, so only a bot fills it in."""
    kind: PublicKind = Field(examples=["feedback"])
    contact: Contact | None = None
    consent: bool = Field(False, description="The sender agrees to be contacted about it.")
    district: str | None = Field(None, max_length=80, pattern=SLUG,
                                 description="Slug of the district unit the matter concerns, "
                                             "if the sender knows it.", examples=["bat-xat"])
    website: str | None = Field(None, max_length=500, description="Leave empty.")

    @model_validator(mode="after")
    def _consent_for_contact(self):
        if self.contact is not None and self.contact.is_empty():
            self.contact = None
        if self.contact is not None and not self.consent:
            raise ValueError("consent: giving contact details needs consent=true "
                             "(or send the feedback anonymously)")
        return self


class OpinionReport(BaseModel):
    """A collaborator's periodic report of workers' opinion in their unit."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    unit: str = Field(max_length=80, pattern=SLUG, examples=["cd-cty-apatit"])
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$", examples=["2026-Q4"])
    topic: str = Field(max_length=80, pattern=SLUG, examples=["wages-income"])
    trends: str = Field(min_length=10, max_length=MAX_TEXT,
                        description="The opinion trends observed.")
    mood: Mood = Field(examples=["worried"])
    people_concerned: int = Field(ge=0, le=1_000_000, examples=[120])
    proposals: str | None = Field(None, max_length=MAX_TEXT)


class OpinionReportSubmission(BaseModel):
    """``POST /api/v1/feedback/opinion-reports`` (collaborator, admin)."""
    model_config = ConfigDict(extra="forbid")

    report: OpinionReport


class Meeting(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: MeetingKind = Field(examples=["citizen_reception"])
    held_on: date = Field(examples=["2026-11-20"])
    place: str | None = Field(None, max_length=200, examples=["Trụ sở LĐLĐ huyện Bát Xát"])


class StaffRecord(_Text):
    """``POST /api/v1/feedback/records`` (moderator, admin): what was raised in a dialogue or a
    citizen-reception meeting, entered by staff on the sender's behalf."""
    kind: PublicKind = Field(examples=["petition"])
    meeting: Meeting
    contact: Contact | None = None
    consent: bool = False
    district: str | None = Field(None, max_length=80, pattern=SLUG)
    unit: str | None = Field(None, max_length=80, pattern=SLUG,
                             description="Route to this unit instead of the routing rules.")
    topic: str | None = Field(None, max_length=80, pattern=SLUG)


class IntakeMessage(BaseModel):
    """What the gateway puts on ``feedback.intake``; the service stores it once per code."""
    model_config = ConfigDict(extra="forbid")

    tracking_code: str = Field(pattern=TRACKING_CODE.pattern)
    kind: Kind
    channel: Channel
    text: str = Field(max_length=MAX_TEXT)
    contact: Contact | None = None
    consent: bool = False
    district: str | None = None
    unit: str | None = None
    topic: str | None = None
    report: OpinionReport | None = None
    meeting: Meeting | None = None
    submitted_by: str | None = Field(None, max_length=120)
    sender: str | None = Field(None, max_length=64,
                               description="Pseudonymous sender hash (daily salted), for "
                                           "linking near-duplicates of anonymous senders.")
    submitted_at: str
    correlation_id: str | None = None

    @model_validator(mode="after")
    def _report_iff_opinion(self):
        if (self.kind == "opinion_report") != (self.report is not None):
            raise ValueError("an opinion report carries `report`, and only it does")
        return self


INTAKE_QUEUE = "feedback.intake"
INTAKE_DEAD_LETTER_EXCHANGE = "dead-letters"   # same exchange as the event consumers'
INTAKE_DEAD_LETTER_KEY = "feedback"            # → the queue feedback.dead-letters
INTAKE_DEAD_LETTER_QUEUE = "feedback.dead-letters"
INTAKE_DELIVERY_LIMIT = 20
INTAKE_QUEUE_ARGUMENTS = {
    # a quorum queue confirms a message only once a majority has it on disk
    "x-queue-type": "quorum",
    "x-delivery-limit": INTAKE_DELIVERY_LIMIT,
    "x-dead-letter-exchange": INTAKE_DEAD_LETTER_EXCHANGE,
    "x-dead-letter-routing-key": INTAKE_DEAD_LETTER_KEY,
}


# --- staff work ------------------------------------------------------------------------------
class FeedbackChange(BaseModel):
    """``PATCH /api/v1/feedback/{id}``: any combination, applied atomically and audited."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: Status | None = Field(None, examples=["answered"])
    note: str | None = Field(None, max_length=2000, description="Why (kept in the history).",
                             examples=["Đã làm việc với doanh nghiệp"])
    reason: str | None = Field(None, max_length=2000,
                               description="Required to reject or mark as duplicate.")
    duplicate_of: str | None = Field(None, max_length=20)
    assignee: str | None = Field(None, max_length=120)
    unit: str | None = Field(None, max_length=80, pattern=SLUG)
    topic: str | None = Field(None, max_length=80, pattern=SLUG)
    internal_note: str | None = Field(None, min_length=1, max_length=MAX_TEXT,
                                      description="Staff only; never shown to the sender.")
    public_answer: str | None = Field(None, min_length=1, max_length=MAX_TEXT,
                                      description="Shown on the public tracking page.",
                                      examples=["Công ty đã cam kết trả lương đúng hạn từ tháng 12."])
    revision: int | None = Field(None, ge=1, description="If given, 409 unless it is current.")

    @model_validator(mode="after")
    def _something(self):
        if not any(v is not None for k, v in self.__dict__.items() if k not in ("note", "revision")):
            raise ValueError("nothing to change")
        return self


class TopicIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=120, examples=["Tiền lương, thu nhập"])
    keywords: list[str] = Field(default_factory=list, max_length=200,
                                description="Words or phrases; matched with or without "
                                            "diacritics.")
    order: int = Field(0, ge=0, le=10_000)
    active: bool = True

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        cleaned = [k.strip() for k in value if k and k.strip()]
        if any(len(k) > 80 for k in cleaned):
            raise ValueError("a keyword is at most 80 characters")
        return cleaned


UnitType = Literal["province", "district", "sector", "grassroots"]


class UnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, examples=["LĐLĐ huyện Bát Xát"])
    type: UnitType
    parent: str | None = Field(None, max_length=80, pattern=SLUG)
    district: str | None = Field(None, max_length=80, pattern=SLUG,
                                 description="The district this unit belongs to (routing).")
    workplaces: list[str] = Field(default_factory=list, max_length=200,
                                  description="Names of workplaces this grassroots union "
                                              "covers, for routing by workplace.")
    expects_reports: bool = Field(True, description="Its collaborators report every period.")
    order: int = Field(0, ge=0, le=10_000)


class RoutingRule(BaseModel):
    """One rule: when every given condition holds, route to ``unit``. Lower ``priority`` first."""
    model_config = ConfigDict(extra="forbid")

    id: str = Field(max_length=80, pattern=SLUG, examples=["bao-thang-an-toan"])
    priority: int = Field(100, ge=0, le=10_000, examples=[10])
    topic: str | None = Field(None, max_length=80, pattern=SLUG, examples=["an-toan-lao-dong"])
    district: str | None = Field(None, max_length=80, pattern=SLUG, examples=["bao-thang"])
    workplace_contains: str | None = Field(None, min_length=2, max_length=120,
                                           examples=["Tằng Loỏng"])
    kind: Kind | None = None
    unit: str = Field(max_length=80, pattern=SLUG, examples=["ldld-huyen-bao-thang"])


class RoutingRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[RoutingRule] = Field(max_length=500)


class DueDays(BaseModel):
    """Working days to resolve, per kind (weekends and Vietnamese public holidays skipped)."""
    model_config = ConfigDict(extra="forbid")

    feedback: int = Field(15, ge=1, le=120, examples=[15])
    question: int = Field(15, ge=1, le=120, examples=[10])
    petition: int = Field(15, ge=1, le=120)
    opinion_report: int = Field(15, ge=1, le=120)


PERIOD = r"^(19|20)\d{2}(-(0[1-9]|1[0-2]|Q[1-4]))?$"  # a year of 1900-2099, a month or a quarter


class InboxQuery(Page):

    status: str | None = Field(None, max_length=200, pattern=r"^[a-z_]+(,[a-z_]+)*$",
                               description="One status or several, comma-separated.")
    unit: str | None = Field(None, max_length=80, pattern=SLUG,
                             description="This unit and the units under it.")
    topic: str | None = Field(None, max_length=80, pattern=SLUG)
    kind: Kind | None = None
    channel: Channel | None = None
    overdue: bool | None = None
    received_from: date | None = Field(None, alias="from")
    received_to: date | None = Field(None, alias="to")
    q: str | None = Field(None, min_length=2, max_length=200,
                          description="Words of the text, with or without diacritics.")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("status")
    @classmethod
    def _statuses(cls, value):
        if value is not None:
            bad = [s for s in value.split(",") if s not in STATUSES]
            if bad:
                raise ValueError(f"unknown status {', '.join(bad)}; one of {', '.join(STATUSES)}")
        return value


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str = Field(pattern=PERIOD, examples=["2024-Q1", "2024-03", "2024"])
    unit: str | None = Field(None, max_length=80, pattern=SLUG)
    format: Literal["json", "csv"] | None = None


class Actor(BaseModel):
    """Who asks (from the gateway's verified token)."""
    model_config = ConfigDict(extra="ignore")

    username: str
    roles: list[str] = []
    units: list[str] = []
