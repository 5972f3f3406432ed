"""What ops see on the running platform: one request followed by its id from the gateway into
a service's log and into the event it caused; metrics of the gateway and of every service; JSON
logs; sign-in lockout and rate limits by client address; CORS for the frontend's origin."""
import json
import uuid

import requests

from tests.bus import Bus, wait_until

SERVICES = {"news": "NEWS_HTTP_PORT", "documents": "DOCUMENTS_HTTP_PORT",
            "feedback": "FEEDBACK_HTTP_PORT", "analytics": "ANALYTICS_HTTP_PORT"}


def _json_lines(platform, name):
    lines = []
    for line in (platform.logs / f"{name}.log").read_text(errors="replace").splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


def test_the_request_id_reaches_the_service_log_and_the_event(platform, api, admin_token):
    auth = {"Authorization": f"Bearer {admin_token}"}
    bus = Bus(platform.env["AMQP_URI"]).listen("news", "article_published")
    try:
        create_id, publish_id = f"e2e-create-{uuid.uuid4().hex}", f"e2e-publish-{uuid.uuid4().hex}"
        draft = api.post("/api/v1/news", headers={**auth, "X-Request-ID": create_id}, json={
            "title": "Theo dõi một yêu cầu qua các dịch vụ", "body_html": "<p>Nội dung</p>",
            "category": "ban-tuyen-giao"})
        assert draft.status_code == 201 and draft.headers["X-Request-ID"] == create_id
        published = api.post(f"/api/v1/news/{draft.json()['id']}/publish",
                             headers={**auth, "X-Request-ID": publish_id})
        assert published.status_code == 200
        events = [e for e in bus.collect(count=5, timeout=10)
                  if e["data"].get("article_id") == draft.json()["id"]]
        assert events and events[0]["correlation_id"] == publish_id
    finally:
        bus.close()

    def logged(name, cid):
        return any(line.get("correlation_id") == cid for line in _json_lines(platform, name))

    assert wait_until(lambda: logged("news", create_id), timeout=5)
    assert logged("gateway", create_id)
    gateway_line = next(line for line in _json_lines(platform, "gateway")
                        if line.get("correlation_id") == create_id and line.get("status"))
    assert gateway_line["status"] == 201 and gateway_line["route"] == "/api/v1/news"


def test_gateway_metrics_cover_requests_latency_rpc_cache_and_events(api):
    # the second read is served from memory once the cache listens to news.events
    assert wait_until(lambda: api.get("/api/v1/categories").status_code == 200 and
                      'portal_gateway_cache_lookups_total{outcome="hit",source="news"}'
                      in api.get("/metrics").text, timeout=10)
    api.post("/api/v1/analytics/hits", json={"path": "/do-luong"})
    text = api.get("/metrics").text
    assert 'portal_gateway_requests_total{method="GET",route="/api/v1/categories",status="200"}' in text
    assert 'portal_gateway_request_seconds_bucket{le="0.005",method="GET",route="/api/v1/categories"}' in text
    assert 'portal_gateway_rpc_seconds_bucket{le="0.05",method="list_categories",outcome="ok",service="news"}' in text
    assert 'portal_gateway_cache_lookups_total{outcome="hit",source="news"}' in text
    assert "portal_pageviews_dropped_total" in text
    assert wait_until(lambda: 'portal_events_published_total{source="gateway",type="page_viewed"}'
                      in api.get("/metrics").text, timeout=10)


def test_every_service_exposes_health_readiness_and_metrics(platform):
    for service, port_variable in SERVICES.items():
        base = f"http://127.0.0.1:{platform.env[port_variable]}"
        assert requests.get(f"{base}/healthz", timeout=5).status_code == 200, service
        ready = requests.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 200, (service, ready.text)
        metrics = requests.get(f"{base}/metrics", timeout=5)
        assert metrics.status_code == 200, (service, metrics.text[:3000])
        assert "portal_entrypoint_seconds" in metrics.text, service


def test_sign_in_locks_out_a_guessing_address_and_username_with_retry_after(api):
    address = {"X-Forwarded-For": f"198.51.100.{uuid.uuid4().int % 250 + 1}"}
    username = f"doan.{uuid.uuid4().hex[:8]}"
    statuses = [api.post("/api/v1/auth/token", headers=address,
                         json={"username": username, "password": "doan-thu-mat-khau"}).status_code
                for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    locked = api.post("/api/v1/auth/token", headers=address,
                      json={"username": username, "password": "doan-thu-mat-khau"})
    assert locked.headers["Content-Type"] == "application/problem+json"
    assert int(locked.headers["Retry-After"]) > 0


def test_login_endpoints_are_rate_limited_per_address(api):
    address = {"X-Forwarded-For": f"203.0.113.{uuid.uuid4().int % 250 + 1}"}
    statuses = [api.post("/api/v1/auth/refresh", headers=address,
                         json={"refresh_token": "khong-hop-le"}).status_code for _ in range(61)]
    assert statuses[:60] == [401] * 60 and statuses[60] == 429
    other = api.post("/api/v1/auth/refresh", headers={"X-Forwarded-For": "192.0.2.200"},
                     json={"refresh_token": "khong-hop-le"})
    assert other.status_code == 401


def test_cors_lets_the_frontend_origin_in(api):
    preflight = api.options("/api/v1/auth/token", headers={
        "Origin": "http://frontend.test", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://frontend.test"
    other = api.get("/api/v1/categories", headers={"Origin": "http://elsewhere.test"})
    assert "Access-Control-Allow-Origin" not in other.headers
