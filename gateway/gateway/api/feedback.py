"""Feedback: the three ways in (public, collaborators, staff records), the public tracking page,
the staff inbox and workflow, reports, and the taxonomy, units and routing rules.

Intake answers ``202`` only once RabbitMQ confirmed the submission on the durable queue
``feedback.intake`` (see gateway/intake.py); the feedback service stores it from there.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from gateway.accounts import require_roles
from gateway.contract import ListPage, operation
from gateway.inputs import json_body, query_args
from gateway.intake import HONEYPOT
from gateway import limits
from gateway.visitor_ids import sender_id
from gateway.problems import problem
from portal_common.logs import current_correlation_id
from portal_common.events import utc_now_iso
from portal_common.schemas.feedback import (
    Contact, DueDays, FeedbackChange, InboxQuery, Meeting, OpinionReport,
    OpinionReportSubmission, ReportQuery, RoutingRule, RoutingRules, StaffRecord, Submission,
    TopicIn, UnitIn, new_tracking_code, normalise_tracking_code)

log = logging.getLogger(__name__)

bp = Blueprint("feedback", __name__, url_prefix="/api/v1/feedback")
CSV_BOM = "\ufeff"


# --- response models ------------------------------------------------------------------------
class Accepted(BaseModel):
    tracking_code: str = Field(examples=["GY-7KQ4-M2XD"])
    status: str = Field(examples=["received"])
    status_url: str = Field(examples=["/api/v1/feedback/GY-7KQ4-M2XD"])


class PublicStatus(BaseModel):
    tracking_code: str
    kind: str
    status: str = Field(examples=["in_progress"])
    status_label: str = Field(examples=["Đang xử lý"])
    received_at: str
    updated_at: str
    due_at: str | None = None
    unit_name: str | None = Field(None, examples=["LĐLĐ huyện Bát Xát"])
    public_answer: str | None = None
    answered_at: str | None = None


class HistoryEntry(BaseModel):
    at: str
    by: str
    action: str = Field(examples=["status_changed"])
    model_config = ConfigDict(populate_by_name=True)
    from_: Any = Field(None, alias="from")
    to: Any = None
    note: str | None = None


class Note(BaseModel):
    at: str
    by: str
    text: str


class StaffFeedback(BaseModel):
    id: str
    tracking_code: str
    kind: str
    channel: str
    status: str
    text: str | None = None
    contact: Contact | None = None
    consent: bool = False
    district: str | None = None
    topic: str | None = None
    topic_name: str | None = None
    topic_suggested: str | None = None
    unit: str | None = None
    unit_name: str | None = None
    assignee: str | None = None
    received_at: str
    updated_at: str | None = None
    due_at: str | None = None
    overdue: bool
    public_answer: str | None = None
    answered_at: str | None = None
    resolved_at: str | None = None
    reason: str | None = None
    duplicate_of: str | None = None
    similar_to: list[str] = []
    report: OpinionReport | None = None
    meeting: Meeting | None = None
    submitted_by: str | None = None
    erased: bool = False
    revision: int
    notes: list[Note] | None = None
    history: list[HistoryEntry] | None = None


class ErasureRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=2000, examples=["yêu cầu của người gửi, 20/11/2026"])


class Topic(TopicIn):
    slug: str


class TopicList(BaseModel):
    items: list[Topic]


class Unit(UnitIn):
    slug: str
    path: list[str]


class UnitList(BaseModel):
    items: list[Unit]


class RuleList(BaseModel):
    rules: list[RoutingRule]


class Figures(BaseModel):
    received: int
    resolved: int
    open: int
    overdue: int
    median_resolution_days: float | None = None


class TopicRow(Figures):
    topic: str
    name: str | None = None


class UnitRow(Figures):
    unit: str
    name: str | None = None


class StatusCount(BaseModel):
    status: str
    count: int


class KindCount(BaseModel):
    kind: str
    count: int


class ChannelCount(BaseModel):
    channel: str | None = None
    count: int


class Recurring(BaseModel):
    topic: str
    name: str | None = None
    periods: list[str]
    counts: list[int]


class UnitRef(BaseModel):
    slug: str | None = None
    name: str | None = None


class Reported(BaseModel):
    unit: str
    name: str | None = None
    reports: int


class NotReported(BaseModel):
    unit: str
    name: str | None = None


class Collaborators(BaseModel):
    reported: list[Reported]
    not_reported: list[NotReported]


class Report(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    period: str = Field(examples=["2024-Q1"])
    kind: str = Field(examples=["quarter"])
    from_: str = Field(alias="from", examples=["2024-01-01"])
    to: str = Field(examples=["2024-03-31"])
    unit: UnitRef
    generated_at: str
    totals: Figures
    by_topic: list[TopicRow]
    by_unit: list[UnitRow]
    by_status: list[StatusCount]
    by_kind: list[KindCount]
    by_channel: list[ChannelCount]
    recurring_topics: list[Recurring]
    collaborators: Collaborators


# --- helpers --------------------------------------------------------------------------------
def _rpc():
    return current_app.extensions["rpc"]


def _actor() -> dict:
    return {"username": g.user["sub"], "roles": g.user.get("roles", []),
            "units": g.user.get("units", [])}


def _limit_body() -> None:
    """Feedback bodies are small: refuse big ones (413) before reading them."""
    request.max_content_length = current_app.config["SETTINGS"].feedback_max_body_bytes


def _accept(message: dict, channel: str):
    message.update(channel=channel, submitted_at=utc_now_iso(),
                   correlation_id=current_correlation_id())
    current_app.extensions["feedback_intake"].submit(message, channel)
    code = message["tracking_code"]
    return jsonify(tracking_code=code, status="received",
                   status_url=f"/api/v1/feedback/{code}"), 202


def _sender() -> str:
    return sender_id(current_app.extensions["visitor_key"], request.remote_addr or "",
                     request.headers.get("User-Agent", ""))


# --- intake ---------------------------------------------------------------------------------
@bp.post("")
@operation(tags=["feedback"], body=Submission, response=Accepted, status=202,
           rate_limited=True, calls_services=False, errors=(503,))
@limits.feedback
def submit():
    """Send a feedback, question or petition (anyone; anonymous allowed): 202 with a
    ``tracking_code``.

    ``contact`` (name, phone, email, workplace) is optional and needs ``consent: true``; it is
    seen only by staff. The 202 means the submission is safely queued (on the broker's disk):
    it is stored even if the feedback service or its database is down at this moment, and shows
    up at ``status_url`` within seconds. 413 above ``FEEDBACK_MAX_BODY_BYTES``; 503 with
    Retry-After if the broker cannot take it (nothing was accepted then)."""
    _limit_body()
    submission = json_body(Submission)
    code = new_tracking_code(submission.kind)
    if submission.website:
        # A honeypot hit: only bots fill the hidden field. It gets the same 202 as a person (a
        # 422 would teach the bot which field gave it away) but nothing is queued; the metric
        # portal_feedback_honeypot_total and a log line make every such drop visible.
        HONEYPOT.inc()
        log.info("honeypot filled; submission %s not queued", code)
        return jsonify(tracking_code=code, status="received",
                       status_url=f"/api/v1/feedback/{code}"), 202
    message = submission.model_dump(mode="json", exclude={"website"})
    message.update(tracking_code=code, sender=_sender())
    return _accept(message, "public")


@bp.post("/opinion-reports")
@operation(tags=["feedback"], body=OpinionReportSubmission, response=Accepted, status=202,
           calls_services=False, errors=(503,))
@require_roles("collaborator", "admin")
def submit_opinion_report():
    """A collaborator's opinion report (collaborator, admin): unit, period, topic, opinion
    trends, mood, people concerned, proposals → 202 with a ``tracking_code``.

    A collaborator reports for the units of their account (JWT ``units``) or units under them;
    an admin for any unit."""
    _limit_body()
    report = json_body(OpinionReportSubmission).report
    roles, units = g.user.get("roles", []), g.user.get("units", [])
    if "admin" not in roles and report.unit not in units:
        units_known = {u["slug"]: u for u in _rpc().call("feedback", "list_units")}
        allowed = _subtree(units_known, units)
        if report.unit not in allowed:
            return problem(403, "Forbidden", f"you do not report for unit '{report.unit}'")
    summary = f"Báo cáo dư luận {report.period}: {report.trends}"[:5000]
    message = {"tracking_code": new_tracking_code("opinion_report"), "kind": "opinion_report",
               "text": summary, "report": report.model_dump(mode="json"),
               "submitted_by": g.user["sub"], "topic": report.topic, "unit": report.unit}
    return _accept(message, "collaborator")


def _subtree(units: dict[str, dict], roots: list[str]) -> set[str]:
    children: dict[str | None, list[str]] = {}
    for slug, unit in units.items():
        children.setdefault(unit.get("parent"), []).append(slug)
    found, stack = set(), list(roots)
    while stack:
        slug = stack.pop()
        if slug not in found:
            found.add(slug)
            stack.extend(children.get(slug, []))
    return found


@bp.post("/records")
@operation(tags=["feedback"], body=StaffRecord, response=Accepted, status=202,
           calls_services=False, errors=(503,))
@require_roles("moderator", "admin")
def submit_staff_record():
    """Enter what was raised at a dialogue or a citizen-reception meeting (moderator, admin):
    202 with a ``tracking_code``, then the same workflow as any feedback."""
    _limit_body()
    record = json_body(StaffRecord)
    message = record.model_dump(mode="json")
    message.update(tracking_code=new_tracking_code(record.kind), submitted_by=g.user["sub"])
    return _accept(message, "staff")


# --- public tracking --------------------------------------------------------------------------
@bp.get("/<tracking_code>")
@operation(tags=["feedback"], response=PublicStatus, rate_limited=True)
@limits.feedback_lookup
def public_status(tracking_code: str):
    """Where a feedback stands, by its tracking code: status, dates, the responsible unit and
    the public answer — never the text or the sender. An unknown (or malformed) code is 404
    with the same answer either way."""
    code = normalise_tracking_code(tracking_code)
    if code is None:
        return problem(404, "Not Found", "no feedback with this code (a submission just sent "
                                         "may take a few seconds to appear)")
    response = jsonify(_rpc().call("feedback", "public_status", code))
    response.headers["Cache-Control"] = "no-store"
    return response


# --- staff ------------------------------------------------------------------------------------
@bp.get("")
@operation(tags=["feedback"], query=InboxQuery, response=ListPage[StaffFeedback])
@require_roles("moderator", "admin")
def inbox():
    """The staff inbox, newest first (moderator: only their units and the units under them;
    admin: all). Filters: ``status`` (comma-separated), ``unit``, ``topic``, ``kind``,
    ``channel``, ``overdue``, ``from``/``to`` (dates received), ``q`` (words, with or without
    diacritics); ``page``, ``per_page``."""
    query = query_args(InboxQuery)
    return jsonify(_rpc().call("feedback", "inbox", query.model_dump(mode="json", by_alias=True),
                               _actor()))


@bp.get("/<tracking_code>/details")
@operation(tags=["feedback"], response=StaffFeedback, errors=(403,))
@require_roles("moderator", "admin")
def details(tracking_code: str):
    """One feedback for staff: text, contact, internal notes and the full audited history."""
    return jsonify(_rpc().call("feedback", "get_feedback", tracking_code, _actor()))


@bp.patch("/<tracking_code>")
@operation(tags=["feedback"], body=FeedbackChange, response=StaffFeedback, errors=(403, 409))
@require_roles("moderator", "admin")
def change(tracking_code: str):
    """Move a feedback in its workflow and/or assign it, change its unit or topic, add an
    internal note or write the public answer (moderator of its unit, admin).

    received → assigned → in_progress → answered → closed, or rejected / duplicate (with a
    ``reason``; duplicate needs ``duplicate_of``). Writing ``public_answer`` on an open feedback
    answers it. Every change is audited (who, when, note). 422 for a transition the workflow
    does not allow; 409 when ``revision`` is stale."""
    payload = json_body(FeedbackChange).model_dump(mode="json", exclude_none=True)
    return jsonify(_rpc().call("feedback", "change_feedback", tracking_code, payload, _actor()))


@bp.post("/<tracking_code>/erase-personal-data")
@operation(tags=["feedback"], body=ErasureRequest, response=StaffFeedback, errors=(403,))
@require_roles("admin")
def erase(tracking_code: str):
    """Erase a sender's personal data on request (admin): contact, text, internal notes and the
    sender hashes go; kind, topic, unit, status and dates stay, so reports do not change."""
    body = json_body(ErasureRequest)
    actor = _actor()
    return jsonify(_rpc().call("feedback", "erase_personal_data", tracking_code, actor,
                               body.note))


@bp.get("/reports")
@operation(tags=["feedback"], query=ReportQuery, response=Report, errors=(403,),
           extra_responses={200: {"description": "The report, as JSON or CSV", "content": {
               "application/json": {"schema": {"$ref": "#/components/schemas/Report"}},
               "text/csv": {"schema": {"type": "string"}}}}})
@require_roles("moderator", "admin")
def report():
    """The periodic report (``period=2024-Q1``, ``2024-03`` or ``2024``) of a unit and the units
    under it (``unit``, default: the root, or a moderator's first unit): received and resolved by
    topic, status and unit, median resolution time, overdue, recurring topics, and which units'
    collaborators reported. CSV (UTF-8 with BOM) with ``format=csv`` or ``Accept: text/csv``."""
    query = query_args(ReportQuery)
    wants_csv = query.format == "csv" or (query.format is None and request.accept_mimetypes
                                          .best_match(["application/json", "text/csv"])
                                          == "text/csv")
    if wants_csv:
        text = _rpc().call("feedback", "report_csv", query.period, query.unit, _actor())
        name = f"bao-cao-y-kien-{query.period}{'-' + query.unit if query.unit else ''}.csv"
        return Response((CSV_BOM + text).encode("utf-8"), mimetype="text/csv",
                         headers={"Content-Disposition": f'attachment; filename="{name}"',
                                  "Content-Type": "text/csv; charset=utf-8"})
    return jsonify(_rpc().call("feedback", "report", query.period, query.unit, _actor()))


# --- configuration ----------------------------------------------------------------------------
@bp.get("/topics")
@operation(tags=["feedback"], response=TopicList)
def list_topics():
    """The topic taxonomy (public: a form may offer it)."""
    return jsonify(items=_rpc().call("feedback", "list_topics"))


@bp.put("/topics/<slug>")
@operation(tags=["feedback"], body=TopicIn, response=Topic)
@require_roles("admin")
def put_topic(slug: str):
    """Create or change a topic: name, keywords (matched with or without diacritics), order,
    active (admin)."""
    return jsonify(_rpc().call("feedback", "put_topic", slug, json_body(TopicIn).model_dump()))


@bp.get("/units")
@operation(tags=["feedback"], response=UnitList)
def list_units():
    """The unit tree (public: the names of the union levels), parents first."""
    return jsonify(items=_rpc().call("feedback", "list_units"))


@bp.put("/units/<slug>")
@operation(tags=["feedback"], body=UnitIn, response=Unit)
@require_roles("admin")
def put_unit(slug: str):
    """Create or change a unit of the tree (admin). 422 for an unknown parent or a cycle."""
    return jsonify(_rpc().call("feedback", "put_unit", slug, json_body(UnitIn).model_dump()))


@bp.get("/routing-rules")
@operation(tags=["feedback"], response=RuleList)
@require_roles("admin", "moderator")
def list_rules():
    """The routing rules in the order they are tried (staff)."""
    return jsonify(rules=_rpc().call("feedback", "list_routing_rules"))


@bp.put("/routing-rules")
@operation(tags=["feedback"], body=RoutingRules, response=RuleList)
@require_roles("admin")
def put_rules():
    """Replace the routing rules (admin): each routes to ``unit`` when all its conditions
    (topic, district, a phrase of the workplace, kind) hold; lowest ``priority`` first."""
    rules = json_body(RoutingRules)
    return jsonify(rules=_rpc().call("feedback", "replace_routing_rules",
                                     rules.model_dump(mode="json")))


@bp.get("/due-days")
@operation(tags=["feedback"], response=DueDays)
@require_roles("admin", "moderator")
def get_due_days():
    """Working days to resolve, per kind (weekends and Vietnamese public holidays skipped)."""
    return jsonify(_rpc().call("feedback", "get_due_days"))


@bp.put("/due-days")
@operation(tags=["feedback"], body=DueDays, response=DueDays)
@require_roles("admin")
def put_due_days():
    """Change the working days per kind (admin); applies to feedback received afterwards."""
    return jsonify(_rpc().call("feedback", "set_due_days", json_body(DueDays).model_dump()))
