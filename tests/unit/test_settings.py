"""Configuration from the environment: an empty variable counts as unset."""
from gateway.settings import GatewaySettings
from portal_common.settings import Settings


def test_an_empty_variable_falls_back_to_the_default(monkeypatch):
    monkeypatch.setenv("AMQP_URI", "")
    monkeypatch.setenv("JWT_SECRET", "")
    assert Settings().amqp_uri == Settings.model_fields["amqp_uri"].default
    assert GatewaySettings().jwt_secret is None  # min_length=32 would refuse "" otherwise


def test_a_set_variable_wins(monkeypatch):
    monkeypatch.setenv("AMQP_URI", "amqp://u:p@broker.internal:5672/portal")
    assert Settings().amqp_uri == "amqp://u:p@broker.internal:5672/portal"
