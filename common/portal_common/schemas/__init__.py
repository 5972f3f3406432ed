"""Input contracts shared by the gateway (validating at the HTTP edge) and the services
(validating their RPC arguments again): one pydantic model per payload, defined once."""
from pydantic import BaseModel, ConfigDict, Field


SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class Page(BaseModel):
    """Which page of a list, and how long a page is (20 unless a list says otherwise)."""

    model_config = ConfigDict(extra="forbid")

    page: int = Field(1, ge=1, le=10_000)
    per_page: int = Field(20, ge=1, le=100)
