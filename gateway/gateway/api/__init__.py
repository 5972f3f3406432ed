"""The gateway's blueprints, one per resource; ``BLUEPRINTS`` is what the app registers."""
from gateway.api import analytics, auth, news, ops, search

BLUEPRINTS = [ops.bp, auth.bp, news.bp, search.bp, analytics.bp]
