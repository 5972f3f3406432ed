"""The search benchmark's comparison row for a decision still open (docs/decisions.md, "Search:
the uncached path's cost is the RPC hop"): the gateway app, unchanged, plus one route that runs
the documents service's own search code (``SearchIndex.search_documents``) inside the gateway
process instead of calling the service over Nameko RPC. Served only by ``bench.search_latency``
with the gateway's gunicorn settings; the platform does not serve this route.
"""
from elasticsearch import Elasticsearch
from flask import jsonify

from bench.search_latency import PROPOSED_PATH
from documents.search_index import SearchIndex, engine_available
from gateway.app import create_app
from gateway.inputs import query_args
from portal_common.schemas.documents import DocumentSearchQuery
from portal_common.settings import get_settings

app = create_app()
_settings = get_settings()
_index = SearchIndex(Elasticsearch(_settings.elasticsearch_url, request_timeout=5),
                     _settings.index_name("search"))
_index.ready = True  # the benchmark's documents service has built the index


@app.get(PROPOSED_PATH)
def search_in_process():
    query = query_args(DocumentSearchQuery)
    with engine_available():
        return jsonify(_index.search_documents(query))
