"""Secrets made on first start: complete, private, and the same for every worker."""
import stat
from concurrent.futures import ThreadPoolExecutor

from gateway.settings import GatewaySettings


def test_concurrent_workers_all_get_the_same_complete_secret(tmp_path):
    settings = GatewaySettings(PORTAL_VAR_DIR=str(tmp_path))
    with ThreadPoolExecutor(16) as pool:
        secrets = set(pool.map(lambda _: settings.read_or_create_secret("jwt-secret"), range(64)))
    assert len(secrets) == 1 and len(secrets.pop()) >= 32
    assert stat.S_IMODE((tmp_path / "jwt-secret").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["jwt-secret"]  # no temporary files left


def test_a_configured_jwt_secret_wins_over_the_file(tmp_path):
    settings = GatewaySettings(PORTAL_VAR_DIR=str(tmp_path), JWT_SECRET="x" * 40)
    assert settings.signing_key() == "x" * 40
    assert not (tmp_path / "jwt-secret").exists()
