"""Staff accounts against the real database: admins manage users, tokens follow the account,
refresh tokens rotate, failed sign-ins lock out, abuse-prone endpoints are rate-limited."""
import jwt
import pytest

from gateway.settings import GatewaySettings
from tests.bus import wait_until

CLOSED = "amqp://guest:guest@127.0.0.1:9/"
ADMIN_PASSWORD = "quan-tri-vien-mat-khau-1"
PASSWORD = "bien-tap-vien-mat-khau-2"


@pytest.fixture
def make_app(namespace, tmp_path, make_gateway):
    def make(**env):
        settings = GatewaySettings(PORTAL_NAMESPACE=namespace, PORTAL_VAR_DIR=str(tmp_path),
                                   AMQP_URI=CLOSED, **env)
        app = make_gateway(settings)
        app.extensions["accounts"].ensure_user("root", ADMIN_PASSWORD, ["admin"])
        return app

    return make


def _login(client, username, password, address="10.0.0.1"):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin(make_app):
    app = make_app()
    client = app.test_client()
    token = _login(client, "root", ADMIN_PASSWORD).json["access_token"]
    return client, _bearer(token)


def test_an_admin_creates_lists_reads_and_changes_accounts(admin):
    client, auth = admin
    created = client.post("/api/v1/users", headers=auth, json={
        "username": "ctv.lan", "password": PASSWORD, "roles": ["collaborator"],
        "units": ["ldld-huyen-bat-xat"]})
    assert created.status_code == 201, created.json
    assert created.headers["Location"] == "/api/v1/users/ctv.lan"
    assert created.json["roles"] == ["collaborator"] and "password" not in str(created.json)
    assert created.json["units"] == ["ldld-huyen-bat-xat"] and created.json["disabled"] is False

    listed = client.get("/api/v1/users", headers=auth, query_string={"role": "collaborator"})
    assert listed.status_code == 200
    assert [u["username"] for u in listed.json["items"]] == ["ctv.lan"]
    assert listed.json["total"] == 1 and listed.json["per_page"] == 50
    assert client.get("/api/v1/users/ctv.lan", headers=auth).json["username"] == "ctv.lan"
    assert client.get("/api/v1/users/khong-co", headers=auth).status_code == 404

    patched = client.patch("/api/v1/users/ctv.lan", headers=auth,
                           json={"roles": ["moderator"], "units": ["cong-doan-nganh-y-te"]})
    assert patched.status_code == 200
    assert patched.json["roles"] == ["moderator"]
    assert patched.json["units"] == ["cong-doan-nganh-y-te"]

    taken = client.post("/api/v1/users", headers=auth, json={
        "username": "ctv.lan", "password": PASSWORD, "roles": ["editor"]})
    assert taken.status_code == 409 and taken.content_type == "application/problem+json"


def test_passwords_units_and_the_last_admin_are_guarded(admin):
    client, auth = admin
    weak = client.post("/api/v1/users", headers=auth, json={
        "username": "bt.minh", "password": "short", "roles": ["editor"]})
    assert weak.status_code == 422
    assert [e["field"] for e in weak.json["errors"]] == ["password"]
    contains_name = client.post("/api/v1/users", headers=auth, json={
        "username": "bt.minh", "password": "xin-chao-bt.minh-123", "roles": ["editor"]})
    assert contains_name.status_code == 422
    assert "username" in contains_name.json["errors"][0]["message"]
    no_unit = client.post("/api/v1/users", headers=auth, json={
        "username": "cb.hoa", "password": PASSWORD, "roles": ["moderator"]})
    assert no_unit.status_code == 422 and no_unit.json["errors"][0]["field"] == "units"
    unknown_role = client.post("/api/v1/users", headers=auth, json={
        "username": "cb.hoa", "password": PASSWORD, "roles": ["root"]})
    assert unknown_role.status_code == 422
    empty_patch = client.patch("/api/v1/users/root", headers=auth, json={})
    assert empty_patch.status_code == 422

    last_admin = client.patch("/api/v1/users/root", headers=auth, json={"roles": ["editor"]})
    assert last_admin.status_code == 409
    itself = client.patch("/api/v1/users/root", headers=auth, json={"disabled": True})
    assert itself.status_code == 409


def test_disabling_an_account_ends_its_access_and_refresh_tokens(make_app):
    app = make_app(ACCOUNT_CACHE_S="0.2")
    other_worker = make_app(ACCOUNT_CACHE_S="0.2").test_client()
    client = app.test_client()
    admin = _bearer(_login(client, "root", ADMIN_PASSWORD).json["access_token"])
    client.post("/api/v1/users", headers=admin, json={
        "username": "bt.minh", "password": PASSWORD, "roles": ["editor"]})
    tokens = _login(client, "bt.minh", PASSWORD).json
    assert other_worker.get("/api/v1/auth/me", headers=_bearer(tokens["access_token"])).json[
        "username"] == "bt.minh"

    assert client.patch("/api/v1/users/bt.minh", headers=admin,
                        json={"disabled": True}).status_code == 200
    assert client.get("/api/v1/auth/me", headers=_bearer(tokens["access_token"])).status_code == 401
    # another worker notices within ACCOUNT_CACHE_S
    assert wait_until(lambda: other_worker.get(
        "/api/v1/auth/me", headers=_bearer(tokens["access_token"])).status_code == 401, timeout=5)
    refused = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refused.status_code == 401
    assert _login(client, "bt.minh", PASSWORD).status_code == 401

    client.patch("/api/v1/users/bt.minh", headers=admin, json={"disabled": False})
    assert _login(client, "bt.minh", PASSWORD).status_code == 200


def test_a_role_change_ends_older_tokens_and_the_new_token_carries_roles_and_units(admin):
    client, auth = admin
    client.post("/api/v1/users", headers=auth, json={
        "username": "cb.hoa", "password": PASSWORD, "roles": ["editor"]})
    old = _login(client, "cb.hoa", PASSWORD).json["access_token"]
    client.patch("/api/v1/users/cb.hoa", headers=auth,
                 json={"roles": ["moderator"], "units": ["ldld-huyen-sa-pa"]})
    assert client.get("/api/v1/auth/me", headers=_bearer(old)).status_code == 401
    new = _login(client, "cb.hoa", PASSWORD).json["access_token"]
    claims = jwt.decode(new, options={"verify_signature": False})
    assert claims["roles"] == ["moderator"] and claims["units"] == ["ldld-huyen-sa-pa"]
    me = client.get("/api/v1/auth/me", headers=_bearer(new)).json
    assert me["units"] == ["ldld-huyen-sa-pa"]
    # a moderator is not an admin
    assert client.get("/api/v1/users", headers=_bearer(new)).status_code == 403


def test_a_refresh_token_works_once_and_its_reuse_revokes_the_whole_sign_in(admin):
    client, _ = admin
    first = _login(client, "root", ADMIN_PASSWORD).json
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert second.json["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/auth/me", headers=_bearer(second.json["access_token"])).status_code == 200

    replayed = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replayed.status_code == 401 and replayed.content_type == "application/problem+json"
    # the thief's replay also ends the rightful holder's newer token of the same sign-in
    third = client.post("/api/v1/auth/refresh", json={"refresh_token": second.json["refresh_token"]})
    assert third.status_code == 401
    unknown = client.post("/api/v1/auth/refresh", json={"refresh_token": "khong-phai-token"})
    assert unknown.status_code == 401
    # another sign-in is unaffected
    other = _login(client, "root", ADMIN_PASSWORD).json
    renewed = client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert renewed.status_code == 200
    # signing out ends that sign-in
    assert client.post("/api/v1/auth/logout",
                       json={"refresh_token": renewed.json["refresh_token"]}).status_code == 204
    assert client.post("/api/v1/auth/refresh", json={
        "refresh_token": renewed.json["refresh_token"]}).status_code == 401
    assert client.post("/api/v1/auth/logout",
                       json={"refresh_token": "khong-co"}).status_code == 204


def test_repeated_failures_lock_a_username_without_revealing_whether_it_exists(make_app):
    client = make_app(LOGIN_MAX_FAILURES="3", LOGIN_LOCKOUT_S="120").test_client()
    client.application.extensions["accounts"].ensure_user("bt.minh", PASSWORD, ["editor"])
    for username in ("bt.minh", "khong.ton.tai"):
        answers = [_login(client, username, "sai-mat-khau-roi", address=f"10.1.0.{i}")
                   for i in range(3)]
        assert [a.status_code for a in answers] == [401, 401, 401]
        locked = _login(client, username, PASSWORD if username == "bt.minh" else "x",
                        address="10.1.0.9")
        assert locked.status_code == 429
        assert locked.content_type == "application/problem+json"
        assert 0 < int(locked.headers["Retry-After"]) <= 120
    locked_real = _login(client, "bt.minh", "sai", address="10.1.1.1").json
    locked_fake = _login(client, "khong.ton.tai", "sai", address="10.1.1.1").json
    assert locked_real["detail"] == locked_fake["detail"]


def test_repeated_failures_from_one_address_lock_that_address_only(make_app):
    client = make_app(LOGIN_MAX_FAILURES_PER_ADDRESS="4").test_client()
    for i in range(4):
        assert _login(client, f"doan.{i}", "sai-mat-khau", address="10.2.0.1").status_code == 401
    assert _login(client, "root", ADMIN_PASSWORD, address="10.2.0.1").status_code == 429
    assert _login(client, "root", ADMIN_PASSWORD, address="10.2.0.2").status_code == 200


def test_login_and_hits_are_rate_limited_per_address_with_retry_after(make_app):
    client = make_app(RATE_LIMIT_LOGIN="3/minute", RATE_LIMIT_HITS="2/minute").test_client()
    answers = [_login(client, "root", ADMIN_PASSWORD, address="10.3.0.1") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    limited = answers[-1]
    assert limited.content_type == "application/problem+json"
    assert limited.json["status"] == 429
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert limited.headers.getlist("Retry-After") == [limited.headers["Retry-After"]]
    assert _login(client, "root", ADMIN_PASSWORD, address="10.3.0.2").status_code == 200

    hits = [client.post("/api/v1/analytics/hits", json={"path": "/"},
                        environ_base={"REMOTE_ADDR": "10.3.0.3"}).status_code for _ in range(3)]
    # the broker is closed here: accepted hits wait in the buffer (202); the third is limited
    assert hits == [202, 202, 429]
    metrics = client.get("/metrics").text
    assert 'portal_gateway_rate_limited_total{limit="hits"}' in metrics


def test_votes_are_rate_limited_per_address(make_app):
    client = make_app(RATE_LIMIT_VOTES="2/minute").test_client()
    votes = [client.post("/api/v1/polls/p1/votes", json={"option_id": "o1"},
                         environ_base={"REMOTE_ADDR": "10.3.0.4"}) for _ in range(3)]
    # the limit is counted before the vote reaches the analytics service (not running here)
    assert [v.status_code == 429 for v in votes] == [False, False, True]
    assert votes[-1].content_type == "application/problem+json" and votes[-1].headers["Retry-After"]
    other = client.post("/api/v1/polls/p1/votes", json={"option_id": "o1"},
                        environ_base={"REMOTE_ADDR": "10.3.0.5"})
    assert other.status_code != 429
