"""A stopped service is a prompt 503 problem, never a hang; what arrived meanwhile is not lost."""
import time

from tests.bus import wait_until
from tests.e2e.conftest import settled_visitors


def test_a_stopped_service_is_a_503_within_the_rpc_timeout_and_nothing_sent_meanwhile_is_lost(
        platform, api):
    # views an earlier test sent may still be on their way (and the answer is cached 2 s)
    before = settled_visitors(api)["total"]
    platform.stop("analytics")
    try:
        # the counter is cached for 2 s: once that answer expires, the service's absence shows
        assert wait_until(lambda: api.get("/api/v1/analytics/visitors").status_code == 503,
                          timeout=10)
        started = time.monotonic()
        response = api.get("/api/v1/analytics/visitors")
        elapsed = time.monotonic() - started
        assert response.status_code == 503 and response.headers["Retry-After"]
        assert response.headers["Content-Type"] == "application/problem+json"
        assert elapsed < float(platform.env["RPC_TIMEOUT_S"]) + 5

        # a beacon is still accepted while analytics is down: the event waits in its queue
        assert api.post("/api/v1/analytics/hits", json={"path": "/khi-dich-vu-dung"}).status_code == 202
    finally:
        platform.start("analytics")

    def total():
        response = api.get("/api/v1/analytics/visitors")
        return response.json()["total"] if response.status_code == 200 else None

    # counted once analytics is back (and before this test ends, so no other test sees it late)
    assert wait_until(lambda: total() == before + 1, timeout=20)
