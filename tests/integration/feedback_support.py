"""The feedback part, in process: the real FeedbackService (Nameko, this test's vhost and
namespace) behind the real gateway app (Flask test client), on the real RabbitMQ and FerretDB."""
from __future__ import annotations

import contextlib

import pytest

from gateway.demo import feedback as demo
from gateway.settings import GatewaySettings
from portal_common.mongo import make_client
from portal_common.settings import get_settings
from tests.bus import wait_until

JWT_SECRET = "integration-secret-for-feedback-tests-0123456789"


class Portal:
    def __init__(self, client, app):
        self.client, self.app = client, app
        self.accounts = app.extensions["accounts"]
        self._tokens: dict[str, str] = {}

    def user(self, username: str, roles: list[str], units: list[str] = ()) -> dict:
        self.accounts.ensure_user(username, "password-" + username, roles, units)
        token = self.accounts.issue_token(self.accounts.authenticate(
            username, "password-" + username))["access_token"]
        return {"Authorization": f"Bearer {token}"}

    @property
    def admin(self) -> dict:
        if "admin" not in self._tokens:
            self._tokens["admin"] = self.user("admin", ["admin"])["Authorization"]
        return {"Authorization": self._tokens["admin"]}

    def load_units(self) -> None:
        for unit in demo.UNITS:
            body = {k: v for k, v in unit.items() if k != "slug"}
            response = self.client.put(f"/api/v1/feedback/units/{unit['slug']}", json=body,
                                       headers=self.admin)
            assert response.status_code == 200, response.json
        response = self.client.put("/api/v1/feedback/routing-rules",
                                   json={"rules": demo.ROUTING_RULES}, headers=self.admin)
        assert response.status_code == 200, response.json

    def submit(self, **fields) -> str:
        body = {"kind": "feedback", "text": "Công ty chậm trả lương tháng này cho công nhân.",
                **fields}
        response = self.client.post("/api/v1/feedback", json=body)
        assert response.status_code == 202, response.json
        return response.json["tracking_code"]

    def stored(self, code: str, timeout: float = 20.0) -> dict | None:
        """The public view once the service stored the code (None if it never did)."""
        def look():
            response = self.client.get(f"/api/v1/feedback/{code}")
            return response.json if response.status_code == 200 else None
        return wait_until(look, timeout=timeout, interval=0.1)

    def settled(self, code: str, timeout: float = 20.0) -> bool:
        """Whether the intake consumer is done with ``code`` (see ``wait_settled``)."""
        with stored_records() as records:
            return wait_settled(records, code, timeout)

    def details(self, code: str, timeout: float = 20.0) -> dict:
        """The staff view; intake answers 202 before the service stores, so a 404 is waited out."""
        def look():
            response = self.client.get(f"/api/v1/feedback/{code}/details", headers=self.admin)
            return None if response.status_code == 404 else response
        response = wait_until(look, timeout=timeout, interval=0.1)
        assert response is not None, f"{code} was never stored"
        assert response.status_code == 200, response.json
        return response.json


@contextlib.contextmanager
def stored_records():
    """The feedback service's records (this test's namespace), read and written directly."""
    client = make_client("test")
    try:
        yield client[get_settings().database_name("feedback")]["feedback"]
    finally:
        client.close()


def wait_settled(records, code: str, timeout: float = 20.0) -> bool:
    """Wait until no intake write for ``code`` is pending. The consumer stores the record, then
    remembers the sender's text and links near-duplicates (other writes), then relays the
    record's event and empties its outbox: a stored record with an empty outbox is settled
    (``Portal.stored`` only waits for the first write)."""
    def done():
        doc = records.find_one({"_id": code}, {"outbox": 1})
        return doc is not None and not doc.get("outbox")
    return wait_until(done, timeout=timeout, interval=0.1)


def gateway_settings(amqp_uri: str, namespace: str, tmp_path, **overrides) -> GatewaySettings:
    """The gateway's settings in a feedback test (build the app with ``make_gateway``)."""
    return GatewaySettings(**{
        "AMQP_URI": amqp_uri, "PORTAL_NAMESPACE": namespace, "PORTAL_VAR_DIR": str(tmp_path),
        "JWT_SECRET": JWT_SECRET, "RPC_TIMEOUT_S": 5,
        "RATE_LIMIT_FEEDBACK": "1000/minute", "RATE_LIMIT_FEEDBACK_LOOKUP": "10000/minute",
        **overrides})


@pytest.fixture
def portal(start_service, rabbit_config, namespace, tmp_path, make_gateway):
    from feedback.service import FeedbackService

    container = start_service(FeedbackService)
    app = make_gateway(gateway_settings(rabbit_config["AMQP_URI"], namespace, tmp_path))
    portal = Portal(app.test_client(), app)
    portal.container = container
    yield portal
    # stop the service before the namespace fixture drops its database: FerretDB's SQLite
    # backend can crash when a database file goes away under a live connection
    container.stop()
