"""The gateway's blueprints, one per resource; ``BLUEPRINTS`` is what the app registers."""
from gateway.api import analytics, auth, docs, documents, news, ops, search

BLUEPRINTS = [ops.bp, docs.bp, docs.docs_bp, auth.bp, news.bp, search.bp, documents.bp, analytics.bp]
