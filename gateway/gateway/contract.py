"""The gateway's HTTP contract, declared once next to each view and published as OpenAPI 3.1.

A view says what it takes and gives with pydantic models::

    @bp.get("/news/<slug>")
    @operation(tags=["news"], response=ArticleOut, errors=(404,), cached=True)
    def get_news(slug): ...

``build_openapi(app)`` walks Flask's URL map and turns those declarations into the document
served at ``/api/v1/openapi.json`` (pydantic's JSON Schema *is* OpenAPI 3.1's schema dialect).
A route without a declaration makes ``undocumented_routes`` non-empty, and a test fails, so the
document and the routes cannot drift apart. The view's docstring is the operation's summary
(first line) and description (the rest).
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Iterable, TypeVar

from flask import Flask
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
PROBLEM_MEDIA_TYPE = "application/problem+json"
# endpoints that are not part of the API (the docs page's own files)
UNDOCUMENTED_ENDPOINT_PREFIXES = ("static", "api_docs.")

ERROR_TITLES = {
    400: "Bad request (the body is not valid JSON)",
    401: "No valid bearer token",
    403: "The token's roles or units do not allow this",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Body too large",
    415: "Unsupported media type",
    422: "Invalid input: `errors` names each field",
    429: "Too many requests: see `Retry-After`",
    500: "Unexpected error (logged with the request id)",
    503: "A service or backend is unavailable: see `Retry-After`",
    504: "A service did not answer in time",
}


class FieldError(BaseModel):
    field: str = Field(examples=["title"])
    message: str = Field(examples=["String should have at least 1 character"])


class Problem(BaseModel):
    """An error (RFC 9457 problem details)."""
    model_config = ConfigDict(title="Problem")

    type: str = Field("about:blank", examples=["about:blank"])
    title: str = Field(examples=["Invalid input"])
    status: int = Field(examples=[422])
    detail: str = Field("", examples=["the request breaks the schema"])
    instance: str | None = Field(None, examples=["/api/v1/news"])
    errors: list[FieldError] | None = None
    request_id: str | None = Field(None, examples=["2f0c4b1e6f1e4a43"])


T = TypeVar("T")


class ListPage(BaseModel, Generic[T]):
    """A page of a list: PRODUCT.md's ``{items, page, per_page, total}``."""
    items: list[T]
    page: int = Field(ge=1, examples=[1])
    per_page: int = Field(ge=1, examples=[20])
    total: int = Field(ge=0, examples=[42])


@dataclass(frozen=True)
class Operation:
    tags: tuple[str, ...]
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    body_media_type: str = "application/json"
    body_schema: dict | None = None           # for non-JSON bodies (multipart uploads)
    response: Any = None                      # a pydantic model or any type pydantic can describe
    status: int = 200
    media_type: str = "application/json"
    response_schema: dict | None = None       # for non-JSON responses (CSV, metrics text)
    errors: tuple[int, ...] = ()
    cached: bool = False                      # ETag / 304 / Cache-Control
    rate_limited: bool = False
    calls_services: bool = True               # may answer 503/504
    summary: str = ""
    description: str = ""
    extra_responses: dict = field(default_factory=dict)


def operation(*, tags: Iterable[str], query=None, body=None, response=None, status: int = 200,
              media_type: str = "application/json", errors: Iterable[int] = (),
              cached: bool = False, rate_limited: bool = False, calls_services: bool = True,
              body_media_type: str = "application/json", body_schema: dict | None = None,
              response_schema: dict | None = None,
              extra_responses: dict | None = None) -> Callable:
    """Declare a view's contract (see the module docstring). Put it under the route decorator."""

    def decorator(view: Callable) -> Callable:
        summary, description = _summary_and_description(view.__doc__ or "")
        view.openapi = Operation(
            tags=tuple(tags), query=query, body=body, response=response, status=status,
            media_type=media_type, errors=tuple(errors), cached=cached,
            rate_limited=rate_limited, calls_services=calls_services,
            body_media_type=body_media_type, body_schema=body_schema,
            response_schema=response_schema, summary=summary, description=description, extra_responses=extra_responses or {})
        return view

    return decorator


def _summary_and_description(docstring: str) -> tuple[str, str]:
    """Summary: the docstring's first sentence; description: all of it, paragraphs unwrapped."""
    paragraphs = [" ".join(p.split()) for p in inspect.cleandoc(docstring).split("\n\n") if p.strip()]
    if not paragraphs:
        return "", ""
    summary = re.split(r"(?<=[.;])\s", paragraphs[0], maxsplit=1)[0].rstrip(".;")
    description = "\n\n".join(paragraphs)
    return summary, ("" if description.rstrip(".") == summary else description)


def documented_rules(app: Flask):
    """(rule, view) for every route that belongs to the API."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(UNDOCUMENTED_ENDPOINT_PREFIXES):
            continue
        yield rule, app.view_functions[rule.endpoint]


def undocumented_routes(app: Flask) -> list[str]:
    return sorted(rule.rule for rule, view in documented_rules(app)
                  if getattr(view, "openapi", None) is None)


_CONVERTER = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def openapi_path(rule: str) -> str:
    return _CONVERTER.sub(lambda m: "{" + m.group("name") + "}", rule)


class _Schemas:
    """Collects component schemas; returns ``$ref``s to them."""

    def __init__(self):
        self.components: dict[str, dict] = {}

    def ref(self, annotation: Any, mode: str) -> dict:
        adapter = TypeAdapter(annotation)
        schema = adapter.json_schema(ref_template="#/components/schemas/{model}", mode=mode)
        for name, definition in schema.pop("$defs", {}).items():
            self.components.setdefault(name, definition)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            name = re.sub(r"[^a-zA-Z0-9._-]+", "_", annotation.__name__).strip("_")
            self.components.setdefault(name, schema)
            return {"$ref": f"#/components/schemas/{name}"}
        return schema

    def inline(self, model: type[BaseModel]) -> dict:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            self.components.setdefault(name, definition)
        return schema


def _problem_response(description: str) -> dict:
    return {"description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _operation_object(rule, method: str, view: Callable, op: Operation, schemas: _Schemas) -> dict:
    roles = getattr(view, "required_roles", None)
    obj: dict[str, Any] = {"operationId": f"{rule.endpoint.replace('.', '_')}_{method.lower()}",
                           "tags": list(op.tags), "summary": op.summary}
    if op.description:
        obj["description"] = op.description
    if roles:
        obj["security"] = [{"bearer": []}]
        obj["x-roles"] = list(roles)
        obj["description"] = (obj.get("description", "") + f"\n\nRoles: {', '.join(roles)}.").strip()

    parameters = []
    converters = {m.group("name"): m.group("conv") for m in _CONVERTER.finditer(rule.rule)}
    for name in sorted(rule.arguments):
        kind = {"int": "integer"}.get(converters.get(name) or "", "string")
        parameters.append({"name": name, "in": "path", "required": True,
                           "schema": {"type": kind, **({"minimum": 0} if kind == "integer" else {})}})
    if op.query is not None:
        schema = schemas.inline(op.query)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            param = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if prop.get("description"):
                param["description"] = prop["description"]
            parameters.append(param)
    if op.cached:
        parameters.append({"name": "If-None-Match", "in": "header", "required": False,
                           "schema": {"type": "string"},
                           "description": "an ETag from an earlier answer: 304 if unchanged"})
    if parameters:
        obj["parameters"] = parameters

    if op.body is not None or op.body_schema is not None:
        body_schema = op.body_schema or schemas.ref(op.body, "validation")
        obj["requestBody"] = {"required": True, "content": {op.body_media_type: {"schema": body_schema}}}

    success: dict[str, Any] = {"description": "OK" if op.status < 300 else "Done"}
    if op.response is not None or op.response_schema is not None:
        schema = op.response_schema or schemas.ref(op.response, "serialization")
        success["content"] = {op.media_type: {"schema": schema}}
    if op.cached:
        success["headers"] = {"ETag": {"schema": {"type": "string"}},
                              "Cache-Control": {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {str(op.status): success}
    if op.cached:
        responses["304"] = {"description": "Not modified (the ETag in If-None-Match is current)"}
    responses.update({str(code): value for code, value in op.extra_responses.items()})

    codes = set(op.errors) | {500}
    if parameters or op.query is not None:
        codes.add(422)
    if rule.arguments:
        codes.add(404)
    if op.body is not None or op.body_schema is not None:
        codes |= {400, 413, 415, 422}
    if roles:
        codes |= {401, 403}
    if op.rate_limited or getattr(view, "rate_limits", None):
        codes.add(429)
    if op.calls_services:
        codes |= {503, 504}
    for code in sorted(codes):
        responses.setdefault(str(code), _problem_response(ERROR_TITLES.get(code, "Error")))
    obj["responses"] = responses
    return obj


def build_openapi(app: Flask, *, title: str = "Union portal API",
                  description: str = "") -> dict:
    """The OpenAPI 3.1 document of every API route of ``app``."""
    schemas = _Schemas()
    schemas.ref(Problem, "serialization")
    paths: dict[str, dict] = {}
    for rule, view in sorted(documented_rules(app), key=lambda item: item[0].rule):
        op: Operation | None = getattr(view, "openapi", None)
        if op is None:
            continue
        path = paths.setdefault(openapi_path(rule.rule), {})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            path[method.lower()] = _operation_object(rule, method, view, op, schemas)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": API_VERSION, "description": description},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.components.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "bearerFormat": "JWT"}},
        },
    }
