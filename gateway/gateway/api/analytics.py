"""The page-view beacon, the visitor counter and the staff summary (JSON and CSV)."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, ConfigDict, Field
from pymongo.errors import PyMongoError

from gateway import limits
from gateway.accounts import require_roles
from gateway.caching import cached
from gateway.contract import operation
from gateway.inputs import json_body, query_args
from gateway.problems import problem
from gateway.visitor_ids import BOT_VIEWS, LOCAL_TZ, is_bot, visitor_hash
from portal_common.errors import validated
from portal_common.events import new_event, utc_now_iso
from portal_common.schemas.analytics import SummaryRange

bp = Blueprint("analytics", __name__, url_prefix="/api/v1/analytics")

SUMMARY_ROLES = ("admin", "editor", "moderator")
VISITORS_TTL_S = 2  # the counter changes with every view: a time-limited cache, not events


class Hit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=2048, pattern=r"^/", examples=["/tin-tuc/ban-tuyen-giao"])
    referrer: str | None = Field(None, max_length=2048, examples=["https://www.google.com/"])
    title: str | None = Field(None, max_length=512, examples=["Ban Tuyên giáo"])


class HitAccepted(BaseModel):
    accepted: bool = Field(description="False when the view is not counted (a bot's).",
                           examples=[True])
    event_id: str | None = Field(None, description="The page_viewed event, when one was made.",
                                 examples=["3f9a1c2b4d5e6f708192a3b4c5d6e7f8"])


class Visitors(BaseModel):
    total: int = Field(examples=[331663], description="All page views, continuing the old site's counter.")
    today: int = Field(examples=[412], description="Page views since midnight (Asia/Ho_Chi_Minh).")
    today_visitors: int = Field(examples=[97], description="Unique visitors since midnight.")
    online: int = Field(examples=[7], description="Distinct visitors in the last five minutes.")


class SummaryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str | None = Field(None, alias="from", pattern=r"^\d{4}-\d{2}-\d{2}$",
                              description="First local day (default: 29 days before `to`).",
                              examples=["2026-11-01"])
    to: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$",
                           description="Last local day, included (default: today).",
                           examples=["2026-11-30"])


class DayFigures(BaseModel):
    date: str = Field(examples=["2026-11-26"])
    views: int
    visitors: int


class HourFigures(BaseModel):
    hour: str = Field(examples=["2026-11-26T08"], description="Local hour.")
    views: int


class PageFigures(BaseModel):
    path: str = Field(examples=["/tin-tuc/ban-tuyen-giao"])
    views: int


class ReferrerFigures(BaseModel):
    host: str = Field(examples=["google.com"], description="`(direct)` when there was none.")
    views: int


class ArticleFigures(BaseModel):
    month: str = Field(examples=["2026-11"])
    category: str = Field(examples=["ban-tuyen-giao"])
    count: int


class DocumentFigures(BaseModel):
    month: str = Field(examples=["2026-11"])
    type: str = Field(examples=["Chỉ thị"])
    count: int


class FeedbackFigures(BaseModel):
    month: str = Field(examples=["2026-11"])
    topic: str = Field(examples=["tien-luong"])
    unit: str = Field(examples=["ldld-huyen-bat-xat"])
    received: int
    resolved: int = Field(description="Reached answered or closed for the first time that month.")


class Summary(BaseModel):
    """Figures for staff between two local days; monthly statistics for the months touched."""
    from_: str = Field(alias="from", examples=["2026-11-01"])
    to: str = Field(examples=["2026-11-30"])
    views: int
    visitors: int = Field(description="Sum of the days' unique visitors.")
    days: list[DayFigures]
    hours: list[HourFigures] = Field(description="Per local hour; empty for ranges over 31 days.")
    top_pages: list[PageFigures]
    referrers: list[ReferrerFigures]
    articles_published: list[ArticleFigures]
    documents_indexed: list[DocumentFigures]
    feedback: list[FeedbackFigures]


CSV_SCHEMA = {"type": "string", "description":
              "One row per figure: `metric,period,dimension,value` (UTF-8 with BOM, for Excel)."}


@bp.post("/hits")
@operation(tags=["analytics"], body=Hit, response=HitAccepted, status=202, calls_services=False,
           errors=(503,))
@limits.hits
def record_hit():
    """Count a page view: ``{path, referrer?, title?}`` → 202.

    The view becomes a ``gateway.page_viewed`` event with a daily visitor pseudonym (no cookie,
    no address kept); a bot's view (by its user agent) is accepted but not counted
    (``accepted: false``). 503 with Retry-After if the buffer is full or the day's salt cannot
    be read."""
    hit = json_body(Hit)
    user_agent = request.headers.get("User-Agent", "")
    if is_bot(user_agent):
        BOT_VIEWS.inc()
        return jsonify(accepted=False, event_id=None), 202
    try:
        salt = current_app.extensions["visitor_salts"].salt()
    except PyMongoError:  # only the first view of a day (per worker) reads the database
        return problem(503, "Service unavailable", "the visitor counter cannot identify "
                       "visitors right now", headers={"Retry-After": "5"})
    event = new_event("gateway", "page_viewed", {
        "path": hit.path, "referrer": hit.referrer, "title": hit.title,
        "visitor": visitor_hash(salt, request.remote_addr or "", user_agent),
        "viewed_at": utc_now_iso(),
    })
    if not current_app.extensions["pageviews"].offer(event):
        return problem(503, "Service unavailable", "too many page views right now",
                       headers={"Retry-After": "2"})
    return jsonify(accepted=True, event_id=event["event_id"]), 202


@bp.get("/visitors")
@operation(tags=["analytics"], response=Visitors, cached=True)
@cached(ttl=VISITORS_TTL_S)
def visitors():
    """``{total, today, today_visitors, online}``: the visitor counter of the public site."""
    return jsonify(current_app.extensions["rpc"].call("analytics", "visitors"))


def _summary() -> dict:
    query = query_args(SummaryQuery)
    today = datetime.now(timezone.utc).astimezone(LOCAL_TZ).date()
    last = query.to or today.isoformat()
    first = query.from_
    if first is None:
        try:
            first = (datetime.fromisoformat(last).date() - timedelta(days=29)).isoformat()
        except ValueError:
            first = last  # the range check below names the bad field
    period = validated(SummaryRange, {"from": first, "to": last})
    return current_app.extensions["rpc"].call("analytics", "summary", period.from_.isoformat(),
                                              period.to.isoformat())


@bp.get("/summary")
@operation(tags=["analytics"], query=SummaryQuery, response=Summary)
@require_roles(*SUMMARY_ROLES)
def summary():
    """Staff figures between two local days (default: the last 30): views, unique visitors,
    series by day and hour, top pages, referrer hosts, articles published per category,
    documents indexed, feedback received and resolved per topic and unit, per month.

    422 for a bad date, ``to`` before ``from`` or more than 366 days. The same figures as CSV:
    ``/api/v1/analytics/summary.csv``."""
    return jsonify(_summary())


@bp.get("/summary.csv")
@operation(tags=["analytics"], query=SummaryQuery, media_type="text/csv",
           response_schema=CSV_SCHEMA)
@require_roles(*SUMMARY_ROLES)
def summary_csv():
    """The staff summary as CSV (``metric,period,dimension,value``), for a spreadsheet."""
    data = _summary()
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["metric", "period", "dimension", "value"])
    span = f"{data['from']}..{data['to']}"
    writer.writerow(["views", span, "", data["views"]])
    writer.writerow(["visitors", span, "", data["visitors"]])
    for day in data["days"]:
        writer.writerow(["views", day["date"], "", day["views"]])
        writer.writerow(["visitors", day["date"], "", day["visitors"]])
    for hour in data["hours"]:
        writer.writerow(["views", hour["hour"], "", hour["views"]])
    for page in data["top_pages"]:
        writer.writerow(["page_views", span, page["path"], page["views"]])
    for ref in data["referrers"]:
        writer.writerow(["referrer_views", span, ref["host"], ref["views"]])
    for row in data["articles_published"]:
        writer.writerow(["articles_published", row["month"], f"category={row['category']}",
                         row["count"]])
    for row in data["documents_indexed"]:
        writer.writerow(["documents_indexed", row["month"], f"type={row['type']}", row["count"]])
    for row in data["feedback"]:
        dimension = f"topic={row['topic']};unit={row['unit']}"
        writer.writerow(["feedback_received", row["month"], dimension, row["received"]])
        writer.writerow(["feedback_resolved", row["month"], dimension, row["resolved"]])
    filename = f"thong-ke-{data['from']}-{data['to']}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
