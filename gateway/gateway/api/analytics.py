"""The page-view beacon and the visitor counter."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from gateway import limits
from gateway.caching import cached
from gateway.contract import operation
from gateway.inputs import json_body
from gateway.pageviews import visitor_hash
from gateway.problems import problem
from portal_common.events import new_event, utc_now_iso

bp = Blueprint("analytics", __name__, url_prefix="/api/v1/analytics")


class Hit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=2048, pattern=r"^/", examples=["/tin-tuc/ban-tuyen-giao"])
    referrer: str | None = Field(None, max_length=2048)
    title: str | None = Field(None, max_length=512)


class HitAccepted(BaseModel):
    accepted: bool
    event_id: str


class Visitors(BaseModel):
    total: int = Field(examples=[331663])
    today: int = Field(examples=[412])
    online: int = Field(examples=[7])


@bp.post("/hits")
@operation(tags=["analytics"], body=Hit, response=HitAccepted, status=202, calls_services=False,
           errors=(503,))
@limits.hits
def record_hit():
    """Count a page view: ``{path, referrer?, title?}`` → 202. The view becomes a
    ``gateway.page_viewed`` event; 503 with Retry-After if the buffer is full."""
    hit = json_body(Hit)
    key = current_app.extensions["visitor_key"]
    event = new_event("gateway", "page_viewed", {
        "path": hit.path, "referrer": hit.referrer, "title": hit.title,
        "visitor": visitor_hash(key, request.remote_addr or "",
                                request.headers.get("User-Agent", "")),
        "viewed_at": utc_now_iso(),
    })
    if not current_app.extensions["pageviews"].offer(event):
        return problem(503, "Service unavailable", "too many page views right now",
                       headers={"Retry-After": "2"})
    return jsonify(accepted=True, event_id=event["event_id"]), 202


@bp.get("/visitors")
@operation(tags=["analytics"], response=Visitors, cached=True)
@cached(ttl=2)
def visitors():
    """``{total, today, online}``: the visitor counter of the public site."""
    return jsonify(current_app.extensions["rpc"].call("analytics", "visitors"))
