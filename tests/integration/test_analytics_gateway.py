"""The beacon's failure modes at the gateway, against real (or really closed) servers."""
import time

from gateway.settings import GatewaySettings

CLOSED = "127.0.0.1:9"  # nothing listens there
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _settings(tmp_path, **env) -> GatewaySettings:
    return GatewaySettings(**{"PORTAL_VAR_DIR": str(tmp_path), "RPC_TIMEOUT_S": 2, **env})


def test_a_beacon_is_503_not_500_when_the_days_salt_cannot_be_read(tmp_path, make_gateway):
    client = make_gateway(_settings(tmp_path, MONGO_URI=f"mongodb://{CLOSED}/",
                                    MONGO_TIMEOUT_MS=300)).test_client()
    started = time.monotonic()
    response = client.post("/api/v1/analytics/hits", json={"path": "/"},
                           headers={"User-Agent": BROWSER})
    assert time.monotonic() - started < 10
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.content_type == "application/problem+json"


def test_a_beacon_while_the_broker_is_away_is_buffered_and_a_full_buffer_is_503(
        tmp_path, namespace, make_gateway):
    from prometheus_client import REGISTRY

    app = make_gateway(_settings(tmp_path, AMQP_URI=f"amqp://guest:guest@{CLOSED}/",
                                 PAGEVIEW_BUFFER=10))
    client = app.test_client()
    dropped = REGISTRY.get_sample_value("portal_pageviews_dropped_total") or 0
    answers = [client.post("/api/v1/analytics/hits", json={"path": f"/trang-{i}"},
                           headers={"User-Agent": BROWSER}) for i in range(12)]
    assert [a.status_code for a in answers[:10]] == [202] * 10
    assert all(a.get_json()["accepted"] for a in answers[:10])
    assert [a.status_code for a in answers[10:]] == [503, 503]
    assert answers[10].headers["Retry-After"]
    assert REGISTRY.get_sample_value("portal_pageviews_dropped_total") == dropped + 2
    assert app.extensions["pageviews"].pending() == 10  # kept, waiting for the broker


def test_the_salt_is_shared_by_workers_changes_daily_and_old_salts_are_deleted(namespace):
    from datetime import datetime, timedelta, timezone

    from gateway.visitor_ids import DailySalts, local_day
    from portal_common.mongo import make_client
    from portal_common.settings import get_settings

    client = make_client("test")
    collection = client[get_settings().database_name("gateway")]["visitor_salts"]
    today = datetime.now(timezone.utc)
    collection.insert_one({"_id": local_day(today - timedelta(days=3)), "salt": "old"})

    one_worker, other_worker = DailySalts(collection), DailySalts(collection)
    salt = one_worker.salt(today)
    assert other_worker.salt(today) == salt and len(salt) == 64
    assert [d["_id"] for d in collection.find()] == [local_day(today)]  # the old one is gone

    tomorrow = one_worker.salt(today + timedelta(days=1))
    assert tomorrow != salt
    assert [d["_id"] for d in collection.find()] == [local_day(today + timedelta(days=1))]
    client.close()
