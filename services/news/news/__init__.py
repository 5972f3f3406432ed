"""The news service: categories, articles and their publishing workflow (``news.events``)."""
