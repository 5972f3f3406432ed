"""FeedbackService: intake from the durable queue, staff workflow, taxonomy, units, reports.

Entrypoints stay thin: validate, call the store, relay the outbox. The intake consumer stores a
message idempotently (its tracking code is the record's ``_id``) and only then acknowledges it.
"""
from __future__ import annotations

import logging
import re
import time

import eventlet
from nameko.timer import timer
from portal_common.entrypoints import rpc
from portal_common.errors import BACKEND_UNAVAILABLE, Forbidden, Invalid, validated
from portal_common.events import outbox
from portal_common.events.publisher import EventPublisher
from portal_common.mongo import MongoStore
from portal_common.observability import Instrumentation, OpsEndpoints, check
from portal_common.schemas.feedback import (
    SLUG, Actor, DueDays, FeedbackChange, InboxQuery, IntakeMessage, RoutingRules, TopicIn, UnitIn)
from prometheus_client import Counter
from pymongo.errors import PyMongoError

from feedback import reports
from feedback.intake import intake_consumer
from feedback.store import FeedbackStore

log = logging.getLogger(__name__)

INTAKE = Counter("portal_feedback_intake_total", "Intake messages handled, by outcome",
                 ["outcome"])  # stored | duplicate
# how long one intake worker holds its message while MongoDB does not answer, before giving it
# back to the queue (each give-back counts against the queue's delivery limit)
MAX_OUTAGE_WAIT_S = 300.0


def _slug(slug) -> str:
    if not isinstance(slug, str) or len(slug) > 80 or not re.match(SLUG, slug):
        raise Invalid("invalid slug", [{"field": "slug", "message": "lowercase-with-dashes, "
                                                                   "at most 80 characters"}])
    return slug


class FeedbackService(OpsEndpoints):
    name = "feedback"

    store = MongoStore(FeedbackStore)
    publish_event = EventPublisher()
    instrumentation = Instrumentation()

    def readiness_checks(self):
        return [check("mongodb", lambda: self.store.feedback.database.command("ping"))]

    # intake ---------------------------------------------------------------------------------
    @intake_consumer
    def handle_intake(self, body):
        """Store one submission from ``feedback.intake`` (an ``IntakeMessage``), then ack.

        A message that breaks the schema raises Invalid and is dead-lettered at once; while
        MongoDB is down the worker waits (holding the message) instead of failing it."""
        message = validated(IntakeMessage, body)
        deadline, delay = time.monotonic() + MAX_OUTAGE_WAIT_S, 0.5
        while True:
            try:
                record, created = self.store.store_submission(message)
                break
            except BACKEND_UNAVAILABLE as exc:
                if time.monotonic() >= deadline:
                    raise
                log.warning("intake of %s waits for MongoDB (%s); retrying in %.1fs",
                            message.tracking_code, type(exc).__name__, delay)
                eventlet.sleep(delay)
                delay = min(delay * 2, 10.0)
        INTAKE.labels("stored" if created else "duplicate").inc()
        if created:
            self._relay(record["_id"])

    def _relay(self, code: str) -> None:
        try:
            outbox.relay(self.store.feedback, code, self.publish_event)
        except PyMongoError as exc:  # the record is stored; the sweep publishes its event later
            log.warning("outbox of %s not relayed now (%s); the sweep will", code, exc)

    @timer(interval=5)
    def relay_outbox(self):
        """Publish events a crash or a broker outage left in a record's outbox."""
        outbox.sweep(self.store.feedback, self.publish_event)

    # public ---------------------------------------------------------------------------------
    @rpc
    def public_status(self, tracking_code):
        """Status, dates, responsible unit and public answer of one feedback — nothing personal.
        Raises NotFound."""
        return self.store.public_view(tracking_code)

    # staff ----------------------------------------------------------------------------------
    @rpc
    def inbox(self, query, actor):
        """The staff inbox (``InboxQuery`` fields), limited to the actor's units unless admin:
        ``{items, page, per_page, total}``. Raises Forbidden, Invalid."""
        return self.store.inbox(validated(InboxQuery, query), validated(Actor, actor))

    @rpc
    def get_feedback(self, tracking_code, actor):
        """One record with contact, notes and history (staff). Raises NotFound, Forbidden."""
        return self.store.get(tracking_code, validated(Actor, actor))

    @rpc
    def change_feedback(self, tracking_code, change, actor):
        """Apply a ``FeedbackChange`` (transition, assignment, topic, notes, answer), audited,
        with its events. Raises NotFound, Forbidden, Invalid, Conflict."""
        record, staged = self.store.change(tracking_code, validated(FeedbackChange, change),
                                           validated(Actor, actor))
        if staged:
            self._relay(tracking_code)
        return record

    @rpc
    def erase_personal_data(self, tracking_code, actor, note=None):
        """Remove contact and free text of one record (admin); statistics keep it.
        Raises NotFound, Forbidden."""
        return self.store.erase_personal_data(tracking_code, validated(Actor, actor), note)

    @rpc
    def report(self, period, unit, actor):
        """The periodic report (``2024``, ``2024-03``, ``2024-Q1``) of a unit and the units
        under it. A moderator gets only units they are responsible for. Raises Invalid,
        Forbidden."""
        return self._report(period, unit, validated(Actor, actor))

    @rpc
    def report_csv(self, period, unit, actor):
        """The same report as CSV text (the caller adds the UTF-8 BOM)."""
        return reports.to_csv(self._report(period, unit, validated(Actor, actor)))

    @rpc
    def report_text(self, period, unit, actor):
        """The same report as plain text, for a terminal."""
        return reports.to_text(self._report(period, unit, validated(Actor, actor)))

    def _report(self, period, unit, actor: Actor):
        parsed = reports.Period(period)
        tree = self.store.tree()
        if "admin" not in actor.roles:
            if "moderator" not in actor.roles or not actor.units:
                raise Forbidden("reports are for moderators and admins")
            unit = unit or actor.units[0]
            if unit not in tree.scope(actor.units):
                raise Forbidden("this unit is not one you are responsible for")
        if unit is not None and unit not in tree:
            raise Invalid("unknown unit", [{"field": "unit", "message": f"no unit '{unit}'"}])
        return reports.build(self.store.feedback, tree, self.store.topic_names(), parsed, unit)

    # configuration ----------------------------------------------------------------------------
    @rpc
    def list_topics(self):
        """The topic taxonomy, ordered: ``[{slug, name, keywords, order, active}]``."""
        return self.store.list_topics()

    @rpc
    def put_topic(self, slug, payload):
        """Create or change a topic (``TopicIn``). Raises Invalid."""
        return self.store.put_topic(_slug(slug), validated(TopicIn, payload))

    @rpc
    def list_units(self):
        """The unit tree as a list, parents first, each with its ``path`` from the root."""
        return self.store.list_units()

    @rpc
    def put_unit(self, slug, payload):
        """Create or change a unit (``UnitIn``). Raises Invalid (unknown parent, a cycle)."""
        return self.store.put_unit(_slug(slug), validated(UnitIn, payload))

    @rpc
    def list_routing_rules(self):
        """Routing rules, in the order they are tried."""
        return self.store.list_rules()

    @rpc
    def replace_routing_rules(self, payload):
        """Replace every rule (``RoutingRules``). Raises Invalid (unknown unit)."""
        return self.store.replace_rules(validated(RoutingRules, payload).rules)

    @rpc
    def get_due_days(self):
        """Working days to resolve, per kind."""
        return self.store.due_days()

    @rpc
    def set_due_days(self, payload):
        """Change the working days per kind (``DueDays``); applies to new feedback."""
        return self.store.set_due_days(validated(DueDays, payload))

    @rpc
    def stats(self):
        """``{"feedback": n}``: how many feedback records are stored."""
        return {"feedback": self.store.feedback.count_documents({})}
