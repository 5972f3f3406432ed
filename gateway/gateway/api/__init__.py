"""The gateway's blueprints, one per resource; ``BLUEPRINTS`` is what the app registers."""
from gateway.api import (analytics, auth, docs, documents, feedback, media, news, ops, polls,
                         search, users)

BLUEPRINTS = [ops.bp, docs.bp, docs.docs_bp, auth.bp, users.bp, news.bp, media.bp, search.bp,
              documents.bp, analytics.bp, polls.bp, feedback.bp]
