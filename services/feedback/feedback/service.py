"""FeedbackService: wired to its database, with health, readiness and metrics.

The intake, routing and workflow of issue 5 land here; until then the service runs, answers its
ops endpoints and reports whether its database is reachable.
"""
from __future__ import annotations

from portal_common.entrypoints import rpc

from portal_common.mongo import MongoStore
from portal_common.observability import Instrumentation, OpsEndpoints, check


class FeedbackStore:
    def __init__(self, database):
        self.feedback = database["feedback"]

    def ensure_indexes(self) -> None:
        self.feedback.create_index("tracking_code", unique=True)

    def count(self) -> int:
        return self.feedback.count_documents({})


class FeedbackService(OpsEndpoints):
    name = "feedback"

    store = MongoStore(FeedbackStore)
    instrumentation = Instrumentation()

    def readiness_checks(self):
        return [check("mongodb", lambda: self.store.feedback.database.command("ping"))]

    @rpc
    def stats(self):
        """``{"feedback": n}``: how many feedback records are stored."""
        return {"feedback": self.store.count()}
