"""AnalyticsService: page views, the visitor counter, polls and statistics over every service's
events. Thin entrypoints: validate, call a store, relay events."""
from __future__ import annotations

import logging

from nameko.timer import timer
from pydantic import BaseModel, Field, StrictInt, StrictStr

from portal_common.entrypoints import rpc
from portal_common.errors import validated
from portal_common.events import outbox
from portal_common.events.consumer import event_handler
from portal_common.events.publisher import EventPublisher
from portal_common.mongo import MongoStore
from portal_common.observability import Instrumentation, OpsEndpoints, check
from portal_common.schemas import Page
from portal_common.schemas.analytics import PollDraft, SummaryRange, VoteIn

from analytics.batching import batch_event_handler
from analytics.polls import PollStore
from analytics.statistics import StatisticsStore
from analytics.visits import ONLINE_REFRESH_S, VisitStore

log = logging.getLogger(__name__)


class VisitorBase(BaseModel):
    """The figure the visitor counter continues from (331663 on the seed page)."""

    base_total: StrictInt = Field(ge=0)


class Voter(BaseModel):
    visitor: StrictStr = Field(pattern=r"^[0-9a-f]{32}$")
    account: StrictStr | None = Field(None, min_length=1, max_length=120)


class AnalyticsService(OpsEndpoints):
    name = "analytics"

    visits = MongoStore(VisitStore)
    polls = MongoStore(PollStore)
    statistics = MongoStore(StatisticsStore)
    publish_event = EventPublisher()
    instrumentation = Instrumentation()

    def readiness_checks(self):
        return [check("mongodb", lambda: self.visits.database.command("ping"))]

    # -- page views --------------------------------------------------------------------------
    # a quarter-second wait fills batches of ~250 at 1,000 views/s: each batch costs the same
    # ~9 database round trips whatever its size, so the store's CPU for page views fell from
    # 0.14 to 0.06 of a core (0.05 s); the counter a visitor sees is cached 2 s anyway
    @batch_event_handler("gateway", "page_viewed", max_batch=500, max_wait=0.25)
    def handle_page_viewed(self, events):
        """A batch of ``page_viewed`` envelopes; each event id is counted once, ever."""
        self.visits.record_batch(events)

    @rpc
    def visitors(self):
        """``{"total", "today", "today_visitors", "online"}``: all-time views (continuing the
        old site's counter), views and unique visitors since local midnight, distinct
        visitors in the last five minutes (counted every ``ONLINE_REFRESH_S`` seconds)."""
        return self.visits.visitors()

    @rpc
    def ensure_visitor_base(self, base_total):
        """Set the figure ``total`` continues from (once). Raises Invalid."""
        counter = validated(VisitorBase, {"base_total": base_total})
        return {"base_total": self.visits.ensure_base_total(counter.base_total)}

    @rpc
    def summary(self, first, last):
        """Staff figures between two local days (``"2026-11-01"``, ``"2026-11-30"``): views,
        visitors, series, top pages, referrers, and the other services' statistics per month.
        Raises Invalid."""
        period = validated(SummaryRange, {"from": first, "to": last})
        return {"from": period.from_.isoformat(), "to": period.to.isoformat(),
                **self.visits.summary(period.from_, period.to),
                **self.statistics.summary(period.from_, period.to)}

    @timer(interval=ONLINE_REFRESH_S)
    def count_online(self):
        """Distinct visitors of the last five minutes, counted for the visitor counter."""
        self.visits.refresh_online()

    @timer(interval=60)
    def upkeep(self):
        """Finish batches a crash left pending; forget raw hits past their retention."""
        recovered = self.visits.recover()
        if recovered:
            log.warning("recovered %d page-view batch(es) left pending", recovered)
        self.visits.prune()

    # -- polls -------------------------------------------------------------------------------
    @rpc
    def create_poll(self, payload, actor):
        """Create a poll from ``PollDraft`` fields (question, options, opens_at, closes_at,
        results_visibility); returns it. Raises Invalid."""
        return self.polls.create(validated(PollDraft, payload), actor)

    @rpc
    def ensure_poll(self, payload, actor):
        """Create the poll unless one with the same question exists (demo data); returns it."""
        draft = validated(PollDraft, payload)
        return self.polls.find_by_question(draft.question) or self.polls.create(draft, actor)

    @rpc
    def list_polls(self, page=1, per_page=20):
        """Polls, newest first: ``{items, page, per_page, total}``. Raises Invalid."""
        paging = validated(Page, {"page": page, "per_page": per_page})
        return self.polls.list(paging.page, paging.per_page)

    @rpc
    def get_poll(self, poll_id):
        """One poll with its options and ``status`` (upcoming, open, closed). Raises NotFound."""
        return self.polls.public(self.polls.get(poll_id))

    @rpc
    def vote(self, poll_id, payload, visitor, account=None):
        """Record ``{"option_id"}`` for a visitor (a per-poll pseudonym, 32 hex) and, when
        signed in, an account; announces ``poll_vote_recorded``. Raises NotFound, Invalid,
        Conflict (voted already, or the poll is not open)."""
        choice = validated(VoteIn, payload)
        voter = validated(Voter, {"visitor": visitor, "account": account})
        vote = self.polls.vote(poll_id, choice.option_id, voter.visitor, voter.account)
        outbox.relay(self.polls.votes, vote.pop("_id"), self.publish_event)
        return vote

    @rpc
    def poll_results(self, poll_id, reveal=False):
        """``{options: [{id, label, votes, percent}], total_votes, hidden}``; hidden figures
        are null until the poll closes unless ``reveal`` (staff). Raises NotFound."""
        return self.polls.results(poll_id, reveal=bool(reveal))

    @timer(interval=5)
    def relay_outbox(self):
        """Publish vote events a crash or a broker outage left in a vote's outbox."""
        outbox.sweep(self.polls.votes, self.publish_event)

    # -- statistics from the other services --------------------------------------------------
    @event_handler("news", "article_published")
    def handle_article_published(self, event):
        self.statistics.article_published(event["data"])

    @event_handler("documents", "document_indexed")
    def handle_document_indexed(self, event):
        self.statistics.document_indexed(event["data"], event["occurred_at"])

    @event_handler("feedback", "feedback_received")
    def handle_feedback_received(self, event):
        self.statistics.feedback_received(event["data"])

    @event_handler("feedback", "feedback_status_changed")
    def handle_feedback_status_changed(self, event):
        self.statistics.feedback_status_changed(event["data"])
