"""Polls and votes ("Bình chọn"), in the analytics service's own database.

One vote per visitor, and per account when the voter is signed in, is enforced by the database
itself: a vote's ``_id`` is ``poll:account`` (signed in) or ``poll:visitor`` (anonymous) and a
unique index covers ``visitor`` (``poll:visitor``), so a single insert either stores the vote or
fails on a key, even under concurrent requests. Results are counted from the vote documents
(a ``$group`` per poll), so they are exact by construction. The ``poll_vote_recorded`` event
is staged in the vote document itself (the outbox) and relayed after the insert.

``visitor`` is a per-poll pseudonym the gateway derives from address and user agent with a
secret key; this service never sees an address.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from portal_common.errors import Conflict, Invalid, NotFound
from portal_common.events import iso_utc, new_event
from portal_common.events import outbox
from portal_common.schemas.analytics import PollDraft


def _status(poll: dict[str, Any], now: datetime) -> str:
    if poll.get("opens_at") and now < poll["opens_at"]:
        return "upcoming"
    if poll.get("closes_at") and now >= poll["closes_at"]:
        return "closed"
    return "open"


def percentages(counts: list[int], decimals: int = 1) -> list[float]:
    """Shares of the total that add up to exactly 100 (largest remainder), or all 0."""
    total = sum(counts)
    if total == 0:
        return [0.0 for _ in counts]
    scale = 100 * 10 ** decimals
    exact = [count * scale / total for count in counts]
    floors = [int(x) for x in exact]
    short = scale - sum(floors)
    for i in sorted(range(len(counts)), key=lambda i: exact[i] - floors[i], reverse=True)[:short]:
        floors[i] += 1
    return [f / 10 ** decimals for f in floors]


class PollStore:
    def __init__(self, database: Database):
        self.polls = database["polls"]
        self.votes = database["votes"]

    def ensure_indexes(self) -> None:
        self.votes.create_index([("visitor", ASCENDING)], unique=True)
        self.polls.create_index([("created_at", DESCENDING)])

    # -- polls -------------------------------------------------------------------------------
    def create(self, draft: PollDraft, created_by: str, now: datetime | None = None
               ) -> dict[str, Any]:
        now = now or datetime.now(timezone.utc)
        poll = {
            "_id": uuid.uuid4().hex[:16],
            "question": draft.question,
            "options": [{"id": f"o{i}", "label": label}
                        for i, label in enumerate(draft.options, start=1)],
            "opens_at": draft.opens_at or now,
            "closes_at": draft.closes_at,
            "results_visibility": draft.results_visibility,
            "created_by": created_by,
            "created_at": now,
        }
        self.polls.insert_one(poll)
        return self.public(poll, now)

    def find_by_question(self, question: str) -> dict[str, Any] | None:
        poll = self.polls.find_one({"question": question})
        return self.public(poll) if poll else None

    def get(self, poll_id: str) -> dict[str, Any]:
        poll = self.polls.find_one({"_id": str(poll_id)})
        if poll is None:
            raise NotFound(f"no poll {poll_id}")
        return poll

    def list(self, page: int, per_page: int) -> dict[str, Any]:
        now = datetime.now(timezone.utc)
        cursor = (self.polls.find({}).sort([("created_at", DESCENDING), ("_id", ASCENDING)])
                  .skip((page - 1) * per_page).limit(per_page))
        return {"items": [self.public(p, now) for p in cursor], "page": page,
                "per_page": per_page, "total": self.polls.count_documents({})}

    def public(self, poll: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
        now = now or datetime.now(timezone.utc)
        return {
            "id": poll["_id"], "question": poll["question"],
            "options": [{"id": o["id"], "label": o["label"]} for o in poll["options"]],
            "opens_at": iso_utc(poll["opens_at"]),
            "closes_at": iso_utc(poll["closes_at"]) if poll.get("closes_at") else None,
            "status": _status(poll, now),
            "results_visibility": poll["results_visibility"],
        }

    # -- votes -------------------------------------------------------------------------------
    def vote(self, poll_id: str, option_id: str, visitor: str, account: str | None,
             now: datetime | None = None) -> dict[str, Any]:
        """Store one vote; Conflict if this visitor (or account) voted already or the poll is
        not open, Invalid for an unknown option. Returns the vote and its staged event."""
        now = now or datetime.now(timezone.utc)
        poll = self.get(poll_id)
        status = _status(poll, now)
        if status != "open":
            raise Conflict("voting has not opened yet" if status == "upcoming"
                           else "voting has closed")
        if option_id not in {o["id"] for o in poll["options"]}:
            raise Invalid("unknown option", [{"field": "option_id",
                                              "message": f"no option {option_id} in this poll"}])
        event = new_event("analytics", "poll_vote_recorded", {
            "poll_id": poll["_id"], "option_id": option_id, "voted_at": iso_utc(now),
            "signed_in": account is not None})
        voter = f"a:{account}" if account else f"v:{visitor}"
        try:
            self.votes.insert_one({
                "_id": f"{poll['_id']}:{voter}", "visitor": f"{poll['_id']}:{visitor}",
                "poll_id": poll["_id"], "option_id": option_id, "voted_at": now,
                outbox.OUTBOX_FIELD: [event]})  # staged in the same insert
        except DuplicateKeyError:
            raise Conflict("you have already voted in this poll") from None
        return {"_id": f"{poll['_id']}:{voter}", "poll_id": poll["_id"], "option_id": option_id,
                "voted_at": iso_utc(now)}

    def results(self, poll_id: str, reveal: bool = False,
                now: datetime | None = None) -> dict[str, Any]:
        """Counts and percentages per option; while a poll that shows results only after it
        closed is still open, ``hidden`` is true and the figures are null (unless ``reveal``,
        for staff)."""
        now = now or datetime.now(timezone.utc)
        poll = self.get(poll_id)
        status = _status(poll, now)
        hidden = (poll["results_visibility"] == "after_close" and status != "closed"
                  and not reveal)
        out = {"poll_id": poll["_id"], "question": poll["question"], "status": status,
               "hidden": hidden}
        if hidden:
            return {**out, "total_votes": None,
                    "options": [{"id": o["id"], "label": o["label"], "votes": None,
                                 "percent": None} for o in poll["options"]]}
        counts = {row["_id"]: row["votes"] for row in self.votes.aggregate([
            {"$match": {"poll_id": poll["_id"]}},
            {"$group": {"_id": "$option_id", "votes": {"$sum": 1}}}])}
        votes = [int(counts.get(o["id"], 0)) for o in poll["options"]]
        shares = percentages(votes)
        return {**out, "total_votes": sum(votes),
                "options": [{"id": o["id"], "label": o["label"], "votes": n, "percent": p}
                            for o, n, p in zip(poll["options"], votes, shares)]}
