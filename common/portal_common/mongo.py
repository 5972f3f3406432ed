"""MongoDB access for Nameko services: one client per container, closed when it stops.

Works on MongoDB and on FerretDB (the local server): no multi-document transactions, no change
streams, no TTL indexes; single-document atomic updates carry the outbox instead.
"""
from __future__ import annotations

from nameko.extensions import DependencyProvider
from pymongo import MongoClient
from pymongo.errors import PyMongoError
from pymongo.database import Database

from portal_common.settings import Settings, get_settings
from portal_common.startup import prepare_in_background


def make_client(app_name: str, pool_size: int = 50, settings: Settings | None = None
                ) -> MongoClient:
    """A client with the platform's timeouts, for ``settings`` (default: the environment's)."""
    settings = settings or get_settings()
    timeout = settings.mongo_timeout_ms
    return MongoClient(
        settings.mongo_uri,
        appname=app_name,
        maxPoolSize=pool_size,
        serverSelectionTimeoutMS=timeout,
        connectTimeoutMS=timeout,
        socketTimeoutMS=max(timeout * 3, 10000),
        tz_aware=True,
    )


class MongoStore(DependencyProvider):
    """Gives a worker a domain store built on the service's own database.

    ``articles = MongoStore(ArticleStore)``: the worker sees ``ArticleStore(database)``, with
    domain methods and domain errors, never the raw client. The store's ``ensure_indexes`` runs
    once when the service starts.
    """

    def __init__(self, store_cls, **kwargs):
        super().__init__(**kwargs)
        self.store_cls = store_cls

    def setup(self):
        max_workers = int(self.container.config.get("max_workers", 10))
        # one connection per concurrent worker at least, plus relays and timers
        self.client = make_client(self.container.service_name, pool_size=max(50, max_workers + 10))
        self.database: Database = self.client[get_settings().database_name(self.container.service_name)]
        self.store = self.store_cls(self.database)

    def start(self):
        if hasattr(self.store, "ensure_indexes"):
            prepare_in_background(self.container, self.store.ensure_indexes,
                                  what="MongoDB indexes", retry_on=(PyMongoError,))

    def get_dependency(self, worker_ctx):
        return self.store

    def stop(self):
        self.client.close()

    def kill(self):
        self.client.close()
