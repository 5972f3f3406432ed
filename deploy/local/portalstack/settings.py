"""The environment handed to the portal's processes, the tests and the benchmarks: computed here only.

A variable the user already exported wins over the default, so ``AMQP_URI=... make up`` points the
whole platform at another broker (and the stack then uses that server instead of starting its own).
"""

import os
from urllib.parse import urlsplit

from .paths import ROOT, VAR

# Processes we start carry this variable (their children inherit it): `make down` uses it to find
# anything of ours that outlived its pid file, and never touches a process without it.
OWNER_MARKER = "PORTAL_STACK_ROOT"


def defaults() -> dict:
    return {
        "AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/",
        "RABBIT_MANAGEMENT_URI": "http://guest:guest@127.0.0.1:15672",
        "MONGO_URI": "mongodb://127.0.0.1:27017/",
        "ELASTICSEARCH_URL": "http://127.0.0.1:9200",
        "GATEWAY_PORT": "8080",
        "PORTAL_VAR_DIR": str(VAR),
        "PORTAL_NAMESPACE": "portal",
        "DEMO_DATA": "1",
        "NEWS_HTTP_PORT": "8101",
        "DOCUMENTS_HTTP_PORT": "8102",
        "FEEDBACK_HTTP_PORT": "8103",
        "ANALYTICS_HTTP_PORT": "8104",
    }


def platform_env() -> dict:
    """The platform's variables: the user's value where one is exported (and not empty), else the default."""
    return {name: os.environ.get(name) or default for name, default in defaults().items()}


def child_env(extra: dict | None = None) -> dict:
    """Full environment for a process we start: the caller's, the platform's variables, our marker."""
    env = dict(os.environ)
    env.update(platform_env())
    env[OWNER_MARKER] = str(ROOT)
    if extra:
        env.update(extra)
    return env


def host_port(url: str, default_port: int) -> tuple[str, int]:
    """Host and port of a URL (first host of a MongoDB seed list)."""
    netloc = urlsplit(url).netloc.rsplit("@", 1)[-1].split(",")[0]
    if netloc.startswith("["):
        host, _, rest = netloc[1:].partition("]")
        port = rest.lstrip(":")
    else:
        host, _, port = netloc.partition(":")
    return host or "127.0.0.1", int(port) if port else default_port


def is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


def user_set(name: str) -> bool:
    return bool(os.environ.get(name))
