"""A stopped service is a prompt 503/504 problem, never a hang; it recovers when it returns."""
import time

from tests.bus import wait_until


def test_a_stopped_service_is_a_504_within_the_rpc_timeout_and_recovers(platform, api):
    platform.stop("analytics")
    try:
        started = time.monotonic()
        response = api.get("/api/v1/analytics/visitors")
        elapsed = time.monotonic() - started
        assert response.status_code == 504
        assert response.headers["Content-Type"] == "application/problem+json"
        assert elapsed < float(platform.env["RPC_TIMEOUT_S"]) + 5

        # a beacon is still accepted while analytics is down: the event waits in its queue
        assert api.post("/api/v1/analytics/hits", json={"path": "/khi-dich-vu-dung"}).status_code == 202
    finally:
        platform.start("analytics")
    recovered = wait_until(lambda: api.get("/api/v1/analytics/visitors").status_code == 200,
                           timeout=20)
    assert recovered
