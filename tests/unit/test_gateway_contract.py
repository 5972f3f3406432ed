"""The OpenAPI document is generated from the routes: no route undocumented, and it is valid 3.1."""
import pytest
from flask import Blueprint, Flask
from openapi_spec_validator import validate
from pydantic import BaseModel

from gateway.contract import build_openapi, operation, undocumented_routes
from gateway.settings import GatewaySettings


@pytest.fixture
def gateway_app(tmp_path, make_gateway):
    return make_gateway(GatewaySettings(PORTAL_VAR_DIR=str(tmp_path)))


def test_every_route_of_the_gateway_is_in_the_document_and_it_is_valid_openapi_3_1(gateway_app):
    app = gateway_app
    assert undocumented_routes(app) == []
    document = build_openapi(app)
    validate(document)
    assert document["openapi"].startswith("3.1")
    rules = {rule.rule for rule in app.url_map.iter_rules()
             if not rule.endpoint.startswith(("static", "api_docs."))}
    from gateway.contract import openapi_path
    assert {openapi_path(r) for r in rules} == set(document["paths"])


def test_a_route_without_a_declaration_is_reported():
    app = Flask(__name__)
    bp = Blueprint("x", __name__)

    @bp.get("/declared/<int:item>")
    @operation(tags=["x"])
    def declared(item):
        """Declared."""

    @bp.get("/forgotten")
    def forgotten():
        """Not declared."""

    app.register_blueprint(bp)
    assert undocumented_routes(app) == ["/forgotten"]
    path = build_openapi(app)["paths"]["/declared/{item}"]["get"]
    assert path["parameters"][0] == {"name": "item", "in": "path", "required": True,
                                     "schema": {"type": "integer", "minimum": 0}}
    assert {"404", "500", "503", "504"} <= set(path["responses"])


def test_staff_operations_declare_bearer_security_and_their_401_403(gateway_app):
    document = build_openapi(gateway_app)
    create = document["paths"]["/api/v1/news"]["post"]
    assert create["security"] == [{"bearer": []}]
    assert {"401", "403", "415", "422", "201"} <= set(create["responses"])
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ArticleDraft"}
    public = document["paths"]["/api/v1/news"]["get"]
    assert "security" not in public and "304" in public["responses"]


class Item(BaseModel):
    name: str


def test_schemas_of_generic_lists_get_valid_component_names():
    from gateway.contract import ListPage, _Schemas
    schemas = _Schemas()
    ref = schemas.ref(ListPage[Item], "serialization")
    assert ref == {"$ref": "#/components/schemas/ListPage_Item"}
    assert "Item" in schemas.components


def test_the_docs_page_and_its_files_are_served_from_the_package(gateway_app):
    client = gateway_app.test_client()
    page = client.get("/api/docs/")
    assert page.status_code == 200 and b"/api/v1/openapi.json" in page.data
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert client.get("/api/docs/swagger-ui-bundle.js").status_code == 200
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200 and served.json["paths"]


# Every operation PRODUCT.md names ("Public HTTP API", version 1; for /api/v1/users and the
# refresh path, the ones issue 7 adds), as (method, path); path parameters are compared by
# position, not by name.
PRODUCT_OPERATIONS = {
    ("GET", "/api/v1/categories"), ("GET", "/api/v1/news"), ("GET", "/api/v1/news/{}"),
    ("POST", "/api/v1/news"), ("PATCH", "/api/v1/news/{}"), ("POST", "/api/v1/news/{}/publish"),
    ("DELETE", "/api/v1/news/{}"), ("GET", "/api/v1/albums"), ("GET", "/api/v1/newsletters"),
    ("GET", "/api/v1/documents/search"), ("GET", "/api/v1/documents/{}"),
    ("POST", "/api/v1/documents"), ("DELETE", "/api/v1/documents/{}"), ("GET", "/api/v1/search"),
    ("GET", "/api/v1/polls"), ("GET", "/api/v1/polls/{}"), ("POST", "/api/v1/polls/{}/votes"),
    ("GET", "/api/v1/polls/{}/results"), ("POST", "/api/v1/polls"),
    ("POST", "/api/v1/analytics/hits"), ("GET", "/api/v1/analytics/visitors"),
    ("GET", "/api/v1/analytics/summary"), ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/refresh"), ("POST", "/api/v1/users"), ("GET", "/api/v1/users"),
    ("GET", "/api/v1/users/{}"), ("PATCH", "/api/v1/users/{}"),
    ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/api/v1/openapi.json"),
}

def _operations(document) -> set[tuple[str, str]]:
    import re
    return {(method.upper(), re.sub(r"\{[^}]+\}", "{}", path))
            for path, item in document["paths"].items() for method in item}


def test_every_operation_of_product_md_is_in_the_document(gateway_app):
    present = _operations(build_openapi(gateway_app))
    missing = PRODUCT_OPERATIONS - present
    assert not missing, f"PRODUCT.md operations missing from the API: {sorted(missing)}"


def _has_examples(schema, components, seen=()) -> bool:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return name not in seen and _has_examples(components[name], components, seen + (name,))
    if schema.get("examples"):
        return True
    children = list(schema.get("properties", {}).values())
    children += [schema["items"]] if isinstance(schema.get("items"), dict) else []
    children += schema.get("anyOf", []) + schema.get("allOf", []) + schema.get("oneOf", [])
    return any(_has_examples(child, components, seen) for child in children)


def test_request_and_response_schemas_carry_examples(gateway_app):
    document = build_openapi(gateway_app)
    components = document["components"]["schemas"]
    lacking = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body and not _has_examples(body["schema"], components):
                lacking.append(("request", method.upper(), path))
            success = next(v for k, v in op["responses"].items() if k.startswith("2"))
            content = success.get("content", {}).get("application/json")
            if (content and "$ref" in content["schema"]
                    and not _has_examples(content["schema"], components)):
                lacking.append(("response", method.upper(), path))
    assert lacking == []


def test_staff_operations_name_their_roles_and_rate_limited_ones_their_429(gateway_app):
    document = build_openapi(gateway_app)
    users = document["paths"]["/api/v1/users"]["post"]
    assert users["x-roles"] == ["admin"] and users["security"] == [{"bearer": []}]
    assert "429" in document["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert "429" in document["paths"]["/api/v1/analytics/hits"]["post"]["responses"]
    assert "429" in document["paths"]["/api/v1/polls/{poll_id}/votes"]["post"]["responses"]
    assert "429" in document["paths"]["/api/v1/feedback"]["post"]["responses"]
    # an upload of bytes already stored answers 200 with that media, a new one 201
    assert {"200", "201"} <= set(document["paths"]["/api/v1/media"]["post"]["responses"])
    assert "429" not in document["paths"]["/api/v1/news"]["get"]["responses"]
