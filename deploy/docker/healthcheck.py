"""Container health probe: ``GET /healthz`` (or ``/readyz`` with ``--ready``) on this process's port.

Used by the images' HEALTHCHECK and by docker-compose. The port is read the way the process
reads it: ``GATEWAY_PORT`` for the gateway, ``<SERVICE>_HTTP_PORT`` for a service (the image
sets ``PORTAL_SERVICE``), so overriding a port keeps the probe right. Exit 0 when the answer is
200, 1 otherwise. Proxies from the environment are ignored: the probe is always loopback.
"""
from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_PORTS = {"gateway": 8080, "news": 8101, "documents": 8102, "feedback": 8103, "analytics": 8104}


def probe_url(environ: dict[str, str], ready: bool = False) -> str:
    service = environ.get("PORTAL_SERVICE", "")
    if service not in DEFAULT_PORTS:
        raise SystemExit(f"PORTAL_SERVICE must be one of {sorted(DEFAULT_PORTS)}, not {service!r}")
    variable = "GATEWAY_PORT" if service == "gateway" else f"{service.upper()}_HTTP_PORT"
    port = environ.get(variable) or DEFAULT_PORTS[service]
    return f"http://127.0.0.1:{int(port)}/{'readyz' if ready else 'healthz'}"


def healthy(url: str, timeout: float = 2.0) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def main(argv: list[str]) -> int:
    url = probe_url(dict(os.environ), ready="--ready" in argv)
    return 0 if healthy(url) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
