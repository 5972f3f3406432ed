"""Throw-away RabbitMQ vhosts through the management API (tests and benchmarks isolate in them)."""
from __future__ import annotations

import os
from contextlib import contextmanager
from urllib.parse import quote, urlparse, urlunparse

import requests

from portal_common.settings import get_settings


def _management() -> tuple[str, tuple[str, str]]:
    uri = urlparse(os.environ.get("RABBIT_MANAGEMENT_URI", "http://guest:guest@127.0.0.1:15672"))
    base = urlunparse((uri.scheme, f"{uri.hostname}:{uri.port or 15672}", "", "", "", ""))
    return base, (uri.username or "guest", uri.password or "guest")


def amqp_uri_for(vhost: str, amqp_uri: str | None = None) -> str:
    amqp = urlparse(amqp_uri or get_settings().amqp_uri)
    return urlunparse((amqp.scheme, amqp.netloc, "/" + quote(vhost, safe=""), "", "", ""))


def create_vhost(vhost: str) -> str:
    """Create ``vhost`` with full permissions for the management user; returns its AMQP URI."""
    base, auth = _management()
    requests.put(f"{base}/api/vhosts/{quote(vhost, safe='')}", auth=auth, timeout=10
                 ).raise_for_status()
    requests.put(f"{base}/api/permissions/{quote(vhost, safe='')}/{quote(auth[0], safe='')}",
                 auth=auth, timeout=10, json={"configure": ".*", "write": ".*", "read": ".*"}
                 ).raise_for_status()
    return amqp_uri_for(vhost)


def delete_vhost(vhost: str) -> None:
    base, auth = _management()
    requests.delete(f"{base}/api/vhosts/{quote(vhost, safe='')}", auth=auth, timeout=10)


@contextmanager
def temporary_vhost(vhost: str):
    uri = create_vhost(vhost)
    try:
        yield uri
    finally:
        delete_vhost(vhost)
