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
    admin_password: str | None = Field(None, alias="ADMIN_PASSWORD", min_length=8)
    demo_data: bool = Field(True, alias="DEMO_DATA")

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
