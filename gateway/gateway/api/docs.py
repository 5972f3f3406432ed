"""The API's own description: ``/api/v1/openapi.json`` (generated) and the docs page ``/api/docs``."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask_swagger_ui import get_swaggerui_blueprint

from gateway.contract import build_openapi, operation

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

DESCRIPTION = (
    "The public API of the union portal: news, document lookup and site-wide search, feedback, "
    "polls, visitor counter, staff accounts. Errors are `application/problem+json` (RFC 9457); "
    "lists are `{items, page, per_page, total}`; staff endpoints need a bearer token from "
    "`POST /api/v1/auth/token`.")

# Swagger UI's files ship inside the flask-swagger-ui package: the page works offline.
docs_bp = get_swaggerui_blueprint("/api/docs", "/api/v1/openapi.json",
                                  config={"app_name": "Union portal API"},
                                  blueprint_name="api_docs")
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")


@docs_bp.after_request
def _docs_policy(response):
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


@bp.get("/openapi.json")
@operation(tags=["meta"], response_schema={"type": "object"}, calls_services=False)
def openapi_document():
    """This document (OpenAPI 3.1), generated from the gateway's routes and schemas."""
    document = current_app.extensions.get("openapi")
    if document is None:
        document = current_app.extensions["openapi"] = build_openapi(
            current_app, description=DESCRIPTION)
    return jsonify(document)
