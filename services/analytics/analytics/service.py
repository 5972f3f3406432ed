"""AnalyticsService: counts page views from ``gateway.page_viewed`` and serves the counter."""
from __future__ import annotations

from pydantic import BaseModel, Field, StrictInt

from portal_common.entrypoints import rpc
from portal_common.errors import validated
from portal_common.events.consumer import event_handler
from portal_common.mongo import MongoStore
from portal_common.observability import Instrumentation, OpsEndpoints, check

from analytics.visits import VisitStore


class VisitorBase(BaseModel):
    """The figure the visitor counter continues from (331663 on the seed page)."""

    base_total: StrictInt = Field(ge=0)


class AnalyticsService(OpsEndpoints):
    name = "analytics"

    visits = MongoStore(VisitStore)
    instrumentation = Instrumentation()

    def readiness_checks(self):
        return [check("mongodb", lambda: self.visits.hits.database.command("ping"))]

    @event_handler("gateway", "page_viewed")
    def handle_page_viewed(self, event):
        """One stored hit per event id: a redelivered event changes no figure."""
        self.visits.record(event)

    @rpc
    def visitors(self):
        """``{"total", "today", "online"}``: all-time views (continuing the old site's
        counter), views since local midnight, distinct visitors in the last five minutes."""
        return self.visits.visitors()

    @rpc
    def ensure_visitor_base(self, base_total):
        """Set the figure ``total`` continues from (once). Raises Invalid."""
        counter = validated(VisitorBase, {"base_total": base_total})
        return {"base_total": self.visits.ensure_base_total(counter.base_total)}
