"""Configuration of every process, read from the environment in one place.

Every address has a loopback default so a developer machine works without any variable set;
``PORTAL_NAMESPACE`` prefixes database, index and queue names so that several platforms (or
test runs) can share one set of servers without seeing each other's data.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    # an empty variable (e.g. `JWT_SECRET=` in an .env file) counts as unset: the default applies
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True, env_ignore_empty=True)

    amqp_uri: str = Field("amqp://guest:guest@127.0.0.1:5672/", alias="AMQP_URI")
    mongo_uri: str = Field("mongodb://127.0.0.1:27017/", alias="MONGO_URI")
    elasticsearch_url: str = Field("http://127.0.0.1:9200", alias="ELASTICSEARCH_URL")
    namespace: str = Field("portal", alias="PORTAL_NAMESPACE", pattern=r"^[a-z][a-z0-9_]{0,40}$")
    var_dir: Path = Field(Path("var"), alias="PORTAL_VAR_DIR")
    # Timeouts are short on purpose: a dependency that does not answer quickly is reported
    # as unavailable (503/504) instead of holding a worker.
    mongo_timeout_ms: int = Field(3000, alias="MONGO_TIMEOUT_MS")
    elasticsearch_timeout_s: float = Field(5.0, alias="ELASTICSEARCH_TIMEOUT_S")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    # how often a service scans for work a crash elsewhere left behind (portal_common.pacing);
    # after a failure it saw itself, a service scans on every tick until nothing is left
    catch_up_scan_interval_s: float = Field(300.0, alias="CATCH_UP_SCAN_INTERVAL_S", gt=0)

    def database_name(self, service: str) -> str:
        """The MongoDB database a service owns (``portal_news``); no service reads another's."""
        return f"{self.namespace}_{service}"

    def index_name(self, name: str) -> str:
        """An Elasticsearch index or alias name inside this namespace (``portal_search``)."""
        return f"{self.namespace}_{name}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
