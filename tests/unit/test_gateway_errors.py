"""Every error leaves the gateway as application/problem+json: no HTML page, no stack trace.
Also the web-security headers, CORS and the request id (no server is needed for any of it)."""
import pytest
from flask import Blueprint

from gateway.contract import operation
from gateway.settings import GatewaySettings

CLOSED = "amqp://guest:guest@127.0.0.1:9/"
SECRET = "do-not-show-this-internal-detail"


@pytest.fixture
def make_test_client(tmp_path, make_gateway):
    """A gateway test client per call (settings as keyword arguments); the broker is closed."""

    def make(**env):
        app = make_gateway(GatewaySettings(PORTAL_VAR_DIR=str(tmp_path), AMQP_URI=CLOSED, **env))
        boom = Blueprint("boom", __name__)

        @boom.get("/api/v1/boom")
        @operation(tags=["test"], calls_services=False)
        def explode():
            """Fails unexpectedly."""
            raise RuntimeError(SECRET)

        app.register_blueprint(boom)
        return app.test_client()

    return make


def _is_problem(response, status):
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"]
    text = response.get_data(as_text=True)
    assert "<html" not in text.lower() and "Traceback" not in text and SECRET not in text
    return body


def test_404_405_413_415_and_400_are_problem_documents(make_test_client):
    client = make_test_client(MAX_BODY_BYTES="2048")
    _is_problem(client.get("/api/v1/khong-co"), 404)
    _is_problem(client.get("/"), 404)
    wrong_method = client.delete("/api/v1/categories")
    _is_problem(wrong_method, 405)
    assert "GET" in wrong_method.headers["Allow"]
    too_big = client.post("/api/v1/auth/token", data="x" * 5000, content_type="application/json")
    assert "2048" in _is_problem(too_big, 413)["detail"]
    _is_problem(client.post("/api/v1/auth/token", data="username=a"), 415)
    _is_problem(client.post("/api/v1/auth/token", data="{", content_type="application/json"), 400)


def test_an_unexpected_error_is_a_500_problem_with_the_request_id_and_no_detail(make_test_client):
    client = make_test_client()
    response = client.get("/api/v1/boom", headers={"X-Request-ID": "req-500-test"})
    body = _is_problem(response, 500)
    assert body["request_id"] == "req-500-test"
    assert response.headers["X-Request-ID"] == "req-500-test"


def test_keys_that_mongodb_would_read_as_operators_are_refused(make_test_client):
    client = make_test_client()
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": {"$gt": ""}})
    body = _is_problem(response, 422)
    assert body["errors"][0]["field"] == "refresh_token.$gt"
    dotted = client.post("/api/v1/auth/refresh", json={"a.b": 1})
    assert _is_problem(dotted, 422)["errors"][0]["field"] == "a.b"


def test_page_lengths_and_sizes_are_capped(make_test_client):
    client = make_test_client()
    body = _is_problem(client.get("/api/v1/news", query_string={"per_page": 1000}), 422)
    assert body["errors"][0]["field"] == "per_page"
    long_path = client.post("/api/v1/analytics/hits", json={"path": "/" + "a" * 5000})
    assert _is_problem(long_path, 422)["errors"][0]["field"] == "path"


def test_a_rate_limit_is_a_429_problem_with_retry_after(make_test_client):
    client = make_test_client(RATE_LIMIT_HITS="1/minute")
    # a crawler's hit counts against the limit, but is answered without the day's visitor salt
    # (a person's first hit reads it from MongoDB, see tests/integration/test_gateway_accounts.py)
    crawler = {"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}
    hit = {"path": "/a"}
    assert client.post("/api/v1/analytics/hits", json=hit, headers=crawler).status_code == 202
    limited = client.post("/api/v1/analytics/hits", json=hit, headers=crawler)
    _is_problem(limited, 429)
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["X-RateLimit-Limit"] == "1"


def test_security_headers_and_hsts_when_configured(make_test_client):
    plain = make_test_client().get("/healthz")
    assert plain.headers["X-Content-Type-Options"] == "nosniff"
    assert plain.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in plain.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in plain.headers
    tls = make_test_client(HSTS_MAX_AGE_S="31536000").get("/healthz")
    assert tls.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_cors_allows_only_the_configured_origins(make_test_client):
    closed = make_test_client().options("/api/v1/news", headers={
        "Origin": "https://congdoan.example", "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in closed.headers

    client = make_test_client(
        CORS_ORIGINS="https://congdoan.example, https://admin.congdoan.example")
    preflight = client.options("/api/v1/news", headers={
        "Origin": "https://congdoan.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type"})
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://congdoan.example"
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    stranger = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in stranger.headers
    allowed = client.get("/api/v1/openapi.json", headers={"Origin": "https://admin.congdoan.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://admin.congdoan.example"
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]


def test_the_request_id_is_kept_when_plain_and_replaced_when_not(make_test_client):
    client = make_test_client()
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers[
        "X-Request-ID"] == "abc-123"
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert replaced.headers["X-Request-ID"] not in ("", "bad id\twith spaces")
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32
