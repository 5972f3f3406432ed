"""Gateway configuration, from the environment (see the README's configuration table)."""
from __future__ import annotations

import os
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path

from pydantic import Field

from portal_common.settings import Settings


class GatewaySettings(Settings):
    port: int = Field(8080, alias="GATEWAY_PORT")
    rpc_timeout_s: float = Field(5.0, alias="RPC_TIMEOUT_S", gt=0, le=60)
    rpc_pool_size: int = Field(16, alias="RPC_POOL_SIZE", ge=1, le=256)
    jwt_secret: str | None = Field(None, alias="JWT_SECRET", min_length=32)
    token_ttl_s: int = Field(900, alias="ACCESS_TOKEN_TTL_S", ge=60, le=86400)
    max_body_bytes: int = Field(2 * 1024 * 1024, alias="MAX_BODY_BYTES", ge=1024)
    attachment_max_bytes: int = Field(20 * 1024 * 1024, alias="ATTACHMENT_MAX_BYTES", ge=1024)
    pageview_buffer: int = Field(10000, alias="PAGEVIEW_BUFFER", ge=10)
    admin_password: str | None = Field(None, alias="ADMIN_PASSWORD", min_length=12)
    demo_data: bool = Field(True, alias="DEMO_DATA")
    # feedback intake (gateway/intake.py)
    feedback_max_body_bytes: int = Field(32 * 1024, alias="FEEDBACK_MAX_BODY_BYTES", ge=1024)
    feedback_intake_connections: int = Field(8, alias="FEEDBACK_INTAKE_CONNECTIONS", ge=1, le=64)

    # accounts and sign-in
    refresh_ttl_s: int = Field(14 * 86400, alias="REFRESH_TOKEN_TTL_S", ge=300, le=90 * 86400)
    account_cache_s: float = Field(5.0, alias="ACCOUNT_CACHE_S", ge=0, le=300)
    login_max_failures: int = Field(5, alias="LOGIN_MAX_FAILURES", ge=1, le=1000)
    login_max_failures_per_address: int = Field(
        20, alias="LOGIN_MAX_FAILURES_PER_ADDRESS", ge=1, le=100_000)
    login_failure_window_s: int = Field(900, alias="LOGIN_FAILURE_WINDOW_S", ge=1, le=86400)
    login_lockout_s: int = Field(900, alias="LOGIN_LOCKOUT_S", ge=1, le=86400)

    # rate limits (Flask-Limiter notation: "10/minute;100/hour"), per client address
    ratelimit_storage_uri: str = Field("memory://", alias="RATELIMIT_STORAGE_URI")
    rate_limit_login: str = Field("10/minute;100/hour", alias="RATE_LIMIT_LOGIN")
    rate_limit_hits: str = Field("120/minute", alias="RATE_LIMIT_HITS")
    rate_limit_votes: str = Field("10/minute;100/day", alias="RATE_LIMIT_VOTES")
    rate_limit_feedback: str = Field("5/minute;30/hour;100/day", alias="RATE_LIMIT_FEEDBACK")
    rate_limit_feedback_lookup: str = Field("30/minute;300/hour", alias="RATE_LIMIT_FEEDBACK_LOOKUP")

    # web security
    cors_origins: str = Field("", alias="CORS_ORIGINS",
                              description="comma-separated origins allowed by CORS; empty: none")
    hsts_max_age_s: int = Field(0, alias="HSTS_MAX_AGE_S", ge=0,
                                description="send Strict-Transport-Security (only behind TLS)")
    proxy_hops: int = Field(0, alias="PROXY_HOPS", ge=0, le=5,
                            description="trusted reverse proxies setting X-Forwarded-*")

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    def secret_file(self, name: str) -> Path:
        return self.var_dir / name

    def read_or_create_secret(self, name: str, nbytes: int = 48) -> str:
        """A secret kept in ``var/<name>`` (mode 0600), made once.

        Several gunicorn workers start at the same moment: the secret is written to a private
        temporary file first and then hard-linked into place, which fails if another worker
        got there first, so nobody ever reads a half-written (or empty) key.
        """
        path = self.secret_file(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{name}.")
            try:
                with os.fdopen(fd, "w") as fh:  # mkstemp creates it with mode 0600
                    fh.write(secrets.token_urlsafe(nbytes))
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process published its secret first; use that one
            finally:
                os.unlink(tmp)
        secret = path.read_text().strip()
        if len(secret) < 32:
            raise RuntimeError(f"{path} holds no usable secret; delete it to make a new one")
        return secret

    def signing_key(self) -> str:
        return self.jwt_secret or self.read_or_create_secret("jwt-secret")


@lru_cache(maxsize=1)
def get_gateway_settings() -> GatewaySettings:
    return GatewaySettings()
