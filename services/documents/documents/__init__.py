"""The documents service: the document register (MongoDB) and site-wide search (Elasticsearch)."""
