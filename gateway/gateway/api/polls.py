"""Polls ("Bình chọn"): public reading and voting, staff creation."""
from __future__ import annotations

import jwt
from flask import Blueprint, current_app, g, jsonify, request
from pydantic import BaseModel, Field

from gateway import limits
from gateway.accounts import require_roles
from gateway.caching import cached
from gateway.contract import ListPage, operation
from gateway.inputs import json_body, query_args
from gateway.problems import problem
from gateway.visitor_ids import voter_id
from portal_common.schemas import Page
from portal_common.schemas.analytics import PollDraft, VoteIn

bp = Blueprint("polls", __name__, url_prefix="/api/v1/polls")

RESULT_ROLES = {"admin", "editor"}


class PollOption(BaseModel):
    id: str = Field(examples=["o1"])
    label: str = Field(examples=["Tin Tức - Sự Kiện"])


class Poll(BaseModel):
    id: str = Field(examples=["4f1c2a9b7d3e8a10"])
    question: str = Field(examples=["Bạn quan tâm mục gì nhất trong website của chúng tôi?"])
    options: list[PollOption]
    opens_at: str = Field(examples=["2026-11-26T00:00:00.000Z"])
    closes_at: str | None = Field(None, examples=[None])
    status: str = Field(examples=["open"], description="upcoming, open or closed")
    results_visibility: str = Field(examples=["always"], description="always or after_close")


class VoteRecorded(BaseModel):
    poll_id: str
    option_id: str = Field(examples=["o1"])
    voted_at: str = Field(examples=["2026-11-26T08:15:00.123Z"])


class OptionResult(BaseModel):
    id: str = Field(examples=["o1"])
    label: str = Field(examples=["Tin Tức - Sự Kiện"])
    votes: int | None = Field(examples=[12], description="null while the results are hidden")
    percent: float | None = Field(examples=[66.7], description="Shares add up to 100 (0 without votes).")


class PollResults(BaseModel):
    poll_id: str
    question: str
    status: str = Field(examples=["open"])
    hidden: bool = Field(description="True while a poll that shows results only after it "
                                     "closed is still open (figures are null).")
    total_votes: int | None = Field(examples=[18])
    options: list[OptionResult]


def _rpc():
    return current_app.extensions["rpc"]


def _claims_if_signed_in():
    """The bearer's claims when a token is sent; None when not. An invalid token is an error
    (401), not an anonymous vote."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if not token:
        return None
    if scheme.lower() != "bearer":
        raise jwt.InvalidTokenError("not a bearer token")
    return current_app.extensions["accounts"].verify_token(token.strip())


@bp.get("")
@operation(tags=["polls"], query=Page, response=ListPage[Poll], cached=True)
@cached("analytics", ttl=30)
def list_polls():
    """Polls, newest first: ``{items, page, per_page, total}``."""
    query = query_args(Page)
    return jsonify(_rpc().call("analytics", "list_polls", query.page, query.per_page))


@bp.get("/<poll_id>")
@operation(tags=["polls"], response=Poll, cached=True)
@cached("analytics", ttl=30)
def get_poll(poll_id: str):
    """One poll: question, options, voting window and ``status``. 404 if unknown."""
    return jsonify(_rpc().call("analytics", "get_poll", poll_id))


@bp.post("/<poll_id>/votes")
@operation(tags=["polls"], body=VoteIn, response=VoteRecorded, status=201, errors=(401, 409))
@limits.votes
def vote(poll_id: str):
    """Vote ``{option_id}``: 201. One vote per visitor (address and browser, no cookie), and
    per account when signed in.

    409 for a second vote or outside the voting window (before ``opens_at``, from
    ``closes_at``); 422 for an unknown option; 401 for an invalid token; 404 if no such poll."""
    choice = json_body(VoteIn)
    try:
        claims = _claims_if_signed_in()
    except jwt.PyJWTError:
        return problem(401, "Unauthorized", "the token is invalid or expired",
                       headers={"WWW-Authenticate": 'Bearer realm="union-portal"'})
    visitor = voter_id(current_app.extensions["visitor_key"], poll_id,
                       request.remote_addr or "", request.headers.get("User-Agent", ""))
    recorded = _rpc().call("analytics", "vote", poll_id, choice.model_dump(), visitor,
                           claims["sub"] if claims else None)
    return jsonify(recorded), 201


@bp.get("/<poll_id>/results")
@operation(tags=["polls"], response=PollResults, cached=True)
@cached("analytics", ttl=30)
def poll_results(poll_id: str):
    """Votes and percentages per option: ``options: [{id, label, votes, percent}]``.

    A poll created with ``results_visibility: after_close`` answers ``hidden: true`` with null
    figures until it closes (200, so a page can say "results after the poll closes"); editors
    and admins sending their token see the figures. 404 if unknown."""
    reveal = False
    try:
        claims = _claims_if_signed_in()
        reveal = bool(claims and set(claims.get("roles", [])) & RESULT_ROLES)
    except jwt.PyJWTError:
        pass  # the public answer
    return jsonify(_rpc().call("analytics", "poll_results", poll_id, reveal))


@bp.post("")
@operation(tags=["polls"], body=PollDraft, response=Poll, status=201)
@require_roles("admin", "editor")
def create_poll():
    """Create a poll (editor, admin): question, 2–20 distinct options, optional ``opens_at`` /
    ``closes_at`` (with a time zone) and ``results_visibility`` (``always`` or
    ``after_close``). 201 with the poll; 422 names each invalid field."""
    draft = json_body(PollDraft)
    return jsonify(_rpc().call("analytics", "create_poll", draft.model_dump(mode="json"),
                               g.user["sub"])), 201
