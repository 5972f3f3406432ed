"""Gateway configuration, from the environment (see the README's configuration table)."""
from __future__ import annotations

import os
import secrets
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
    pageview_buffer: int = Field(10000, alias="PAGEVIEW_BUFFER", ge=10)
    admin_password: str | None = Field(None, alias="ADMIN_PASSWORD", min_length=8)
    demo_data: bool = Field(True, alias="DEMO_DATA")

    def secret_file(self, name: str) -> Path:
        return self.var_dir / name

    def read_or_create_secret(self, name: str, nbytes: int = 48) -> str:
        """A secret kept in ``var/<name>`` (mode 0600), made once; safe with several workers."""
        path = self.secret_file(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(nbytes))
        return path.read_text().strip()

    def signing_key(self) -> str:
        return self.jwt_secret or self.read_or_create_secret("jwt-secret")


@lru_cache(maxsize=1)
def get_gateway_settings() -> GatewaySettings:
    return GatewaySettings()
