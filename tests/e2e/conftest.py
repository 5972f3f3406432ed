"""The whole platform as a frontend and an event subscriber see it.

The session starts the real service processes and the gateway (the same process list as
``make up``, from deploy/local/portalstack/apps.py) in a namespace, vhost and ports of its own,
runs the bootstrap (admin account and demo content), and talks HTTP to the gateway. It never
touches a platform started by ``make up``.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from portal_common import rabbit_admin
from tests.conftest import drop_namespace, new_namespace

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy" / "local"))
from portalstack.apps import PLATFORM, Daemon  # noqa: E402

PORT_VARIABLES = {"news": "NEWS_HTTP_PORT", "documents": "DOCUMENTS_HTTP_PORT",
                  "feedback": "FEEDBACK_HTTP_PORT", "analytics": "ANALYTICS_HTTP_PORT",
                  "gateway": "GATEWAY_PORT"}
ADMIN_PASSWORD = "e2e-admin-password-0123"
# the frontend runs in browsers: a client library's user agent would be counted as a bot
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Platform:
    env: dict
    logs: Path
    processes: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['GATEWAY_PORT']}"

    def daemon(self, name: str) -> Daemon:
        return next(d for d in PLATFORM if isinstance(d, Daemon) and d.name == name)

    def start(self, name: str) -> None:
        daemon = self.daemon(name)
        log = open(self.logs / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / daemon.command[0]), *daemon.command[1:]],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_healthy(name, daemon.timeout)

    def wait_healthy(self, name: str, timeout: float) -> None:
        url = self.daemon(name).health.format(**self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                break
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{name} did not become healthy; its log:\n{self.log_tail(name)}")

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def run_task(self, command: tuple) -> str:
        result = subprocess.run([str(ROOT / ".venv" / "bin" / command[0]), *command[1:]],
                                cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout


@pytest.fixture(scope="session")
def platform():
    namespace = new_namespace("e2e")
    amqp_uri = rabbit_admin.create_vhost(namespace)
    workdir = Path(tempfile.mkdtemp(prefix="portal-e2e-"))
    env = {**os.environ,
           "AMQP_URI": amqp_uri,
           "PORTAL_NAMESPACE": namespace, "PORTAL_VAR_DIR": str(workdir / "var"),
           "ADMIN_PASSWORD": ADMIN_PASSWORD, "DEMO_DATA": "1", "RPC_TIMEOUT_S": "3",
           "GATEWAY_WORKERS": "1", "GATEWAY_THREADS": "8", "LOG_LEVEL": "INFO",
           # tests that need their own client address send X-Forwarded-For; everything else
           # comes from 127.0.0.1, so the limits are generous except login's (tested here)
           "PROXY_HOPS": "1", "RATE_LIMIT_LOGIN": "60/minute", "RATE_LIMIT_HITS": "100000/minute",
           "RATE_LIMIT_VOTES": "100000/minute", "RATE_LIMIT_FEEDBACK": "100000/minute",
           "CORS_ORIGINS": "http://frontend.test"}
    env.update({var: str(_free_port()) for var in PORT_VARIABLES.values()})
    platform = Platform(env=env, logs=workdir)
    try:
        for item in PLATFORM:
            if isinstance(item, Daemon):
                platform.start(item.name)
            else:
                platform.bootstrap_output = platform.run_task(item.command)
        yield platform
    finally:
        for name in list(platform.processes):
            platform.stop(name)
        rabbit_admin.delete_vhost(namespace)
        drop_namespace(namespace)


@pytest.fixture(scope="session")
def admin_token(platform) -> str:
    response = requests.post(f"{platform.url}/api/v1/auth/token", timeout=10,
                             json={"username": "admin", "password": ADMIN_PASSWORD})
    response.raise_for_status()
    return response.json()["access_token"]


@pytest.fixture
def api(platform):
    """``api.get("/api/v1/news")`` etc. against the platform's gateway."""
    class Api:
        def __getattr__(self, method):
            def call(path, **kwargs):
                kwargs.setdefault("timeout", 15)
                kwargs["headers"] = {"User-Agent": BROWSER, **(kwargs.get("headers") or {})}
                return requests.request(method.upper(), platform.url + path, **kwargs)
            return call
    return Api()


def settled_visitors(api, quiet_s: float = 3.0, timeout: float = 30.0) -> dict:
    """The visitor counter once the page views sent so far have all been counted: unchanged for
    ``quiet_s`` (longer than the gateway's 2 s cache of this answer). Beacons are counted
    asynchronously and tests run in any order, so a test that reads the counter before and
    after its own views starts from this, not from one read."""
    last, since = None, time.monotonic()
    deadline = since + timeout
    while time.monotonic() < deadline:
        response = api.get("/api/v1/analytics/visitors")
        assert response.status_code == 200, response.text
        now = response.json()
        if last is None or now["total"] != last["total"]:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return now
        time.sleep(0.25)
    raise AssertionError(f"page views kept arriving for {timeout:.0f} s: the counter never settled")
