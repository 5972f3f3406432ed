"""Every staff operation of the served OpenAPI document, walked with no token (401), with each
role it does not allow (403) and with each role it allows (neither 401 nor 403). The list comes
from the document, so a new staff route is covered the day it is added."""
import uuid

import pytest

ROLES = ("admin", "editor", "moderator", "collaborator")
PASSWORD = "mat-khau-kiem-thu-vai-tro"


@pytest.fixture(scope="module")
def role_tokens(platform, admin_token):
    import requests

    tokens = {"admin": admin_token}
    suffix = uuid.uuid4().hex[:6]
    for role in ROLES[1:]:
        username = f"walk.{role}.{suffix}"
        created = requests.post(f"{platform.url}/api/v1/users", timeout=15,
                                headers={"Authorization": f"Bearer {admin_token}"},
                                json={"username": username, "password": PASSWORD, "roles": [role],
                                      "units": ["ldld-huyen-bat-xat"]})
        assert created.status_code == 201, created.text
        login = requests.post(f"{platform.url}/api/v1/auth/token", timeout=15,
                              json={"username": username, "password": PASSWORD})
        tokens[role] = login.json()["access_token"]
    return tokens


def _staff_operations(document):
    for path, item in document["paths"].items():
        for method, op in item.items():
            if op.get("security"):
                yield path, method, op


def _concrete(path, op):
    """The path with every parameter filled by something that names nothing."""
    for param in op.get("parameters", []):
        if param["in"] == "path":
            value = "999999" if param["schema"].get("type") == "integer" else "khong-co-gi-ca"
            path = path.replace("{" + param["name"] + "}", value)
    return path


def test_every_staff_operation_checks_the_token_and_the_role(api, role_tokens):
    document = api.get("/api/v1/openapi.json").json()
    operations = list(_staff_operations(document))
    assert {("/api/v1/users", "post"), ("/api/v1/news", "post")} <= {(p, m) for p, m, _ in operations}
    failures = []
    for path, method, op in operations:
        url = _concrete(path, op)
        content = op.get("requestBody", {}).get("content", {})
        kwargs = {"json": {}} if "application/json" in content else {}
        allowed = set(op["x-roles"])
        answer = getattr(api, method)(url, **kwargs)
        if answer.status_code != 401 or answer.headers["Content-Type"] != "application/problem+json":
            failures.append((method, path, "no token", answer.status_code))
        bad = getattr(api, method)(url, headers={"Authorization": "Bearer x.y.z"}, **kwargs)
        if bad.status_code != 401:
            failures.append((method, path, "forged token", bad.status_code))
        for role in ROLES:
            auth = {"Authorization": f"Bearer {role_tokens[role]}"}
            status = getattr(api, method)(url, headers=auth, **kwargs).status_code
            if role in allowed and status in (401, 403):
                failures.append((method, path, role, status))
            if role not in allowed and status != 403:
                failures.append((method, path, role, status))
    assert failures == []
