"""Readiness probes (TCP, HTTP, a MongoDB ``ping`` spoken directly) and the one wait loop they share."""

import base64
import json
import os
import socket
import struct
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit, urlunsplit

from .ui import Cancelled, Failure, cancelled, tail


def tcp_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_get(url: str, timeout: float = 3.0) -> tuple[int, bytes]:
    """GET a URL (credentials in the URL become Basic auth). Raises OSError when nothing answers."""
    parts = urlsplit(url)
    headers = {"Accept": "application/json"}
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        headers["Authorization"] = "Basic " + base64.b64encode(userinfo.encode()).decode()
    request = urllib.request.Request(urlunsplit(parts._replace(netloc=netloc)), headers=headers)
    # Never route loopback probes through a proxy the environment may define.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except urllib.error.URLError as error:
        raise OSError(str(error.reason)) from error


def http_ok(url: str, timeout: float = 3.0) -> bool:
    try:
        return http_get(url, timeout)[0] == 200
    except (OSError, ValueError):
        return False


def http_answers(url: str, timeout: float = 3.0) -> bool:
    """Any HTTP response at all (even 401): a server is there."""
    try:
        http_get(url, timeout)
        return True
    except (OSError, ValueError):
        return False


def es_health(url: str, timeout: float = 3.0) -> str | None:
    """Cluster status ('green', 'yellow', 'red') or None when Elasticsearch does not answer."""
    try:
        status, body = http_get(url.rstrip("/") + "/_cluster/health", timeout)
        return json.loads(body).get("status") if status == 200 else None
    except (OSError, ValueError):
        return None


def _bson_ping() -> bytes:
    # {"ping": 1, "$db": "admin"} in BSON: int32 element, then string element, then terminator.
    elements = b"\x10ping\x00" + struct.pack("<i", 1)
    elements += b"\x02$db\x00" + struct.pack("<i", 6) + b"admin\x00"
    return struct.pack("<i", len(elements) + 5) + elements + b"\x00"


def mongo_ping(host: str, port: int, timeout: float = 3.0) -> bool:
    """Send the MongoDB ``ping`` command as an OP_MSG and check ``ok: 1`` (no driver needed)."""
    body = struct.pack("<I", 0) + b"\x00" + _bson_ping()      # flag bits, section kind 0, document
    header = struct.pack("<iiii", 16 + len(body), os.getpid() & 0x7FFFFFFF, 0, 2013)  # 2013 = OP_MSG
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(header + body)
            reply = b""
            while len(reply) < 4 or len(reply) < struct.unpack("<i", reply[:4])[0]:
                chunk = sock.recv(65536)
                if not chunk:
                    return False
                reply += chunk
    except OSError:
        return False
    # The reply's document has "ok" as a double (type 0x01) or an int32 (type 0x10).
    at = reply.find(b"\x01ok\x00")
    if at >= 0:
        return struct.unpack("<d", reply[at + 4:at + 12])[0] == 1.0
    at = reply.find(b"\x10ok\x00")
    return at >= 0 and struct.unpack("<i", reply[at + 4:at + 8])[0] == 1


def wait_for(check, what: str, timeout: float, process=None, log=None, interval: float = 0.5) -> None:
    """Poll ``check()`` until it is true. Fails naming ``what`` on timeout, or at once if ``process`` died."""
    deadline = time.monotonic() + timeout
    while True:
        if cancelled.is_set():
            raise Cancelled()
        if check():
            return
        if process is not None and not process.running():
            raise Failure(f"{what}: the process exited during start-up", tail(log) if log else "")
        if time.monotonic() > deadline:
            raise Failure(f"{what}: not ready after {timeout:.0f}s", tail(log) if log else "")
        time.sleep(interval)
