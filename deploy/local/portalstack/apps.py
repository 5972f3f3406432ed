"""The portal's own processes, in start order. Adding a process is one line in PLATFORM.

A ``Daemon`` runs until `make down` and is healthy when its URL answers 200; consecutive daemons start
together and are then waited for one by one. A ``Task`` runs once, after the daemons before it are healthy.
"""

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from . import net
from .paths import LOG, ROOT, RUN, VENV, rel
from .procs import Managed
from .settings import child_env, host_port, platform_env
from .ui import Failure, say, tail, took

BIN = VENV / "bin"


@dataclass(frozen=True)
class Daemon:
    name: str
    command: tuple        # program in .venv/bin, then its arguments
    health: str           # URL template, filled from the platform's environment
    timeout: float = 60.0


@dataclass(frozen=True)
class Task:
    name: str
    command: tuple
    timeout: float = 300.0


PLATFORM = (
    Daemon("news", ("portal-nameko", "run", "--config", "services/news/config.yaml",
                    "news.service:NewsService"), "http://127.0.0.1:{NEWS_HTTP_PORT}/healthz"),
    Daemon("documents", ("portal-nameko", "run", "--config", "services/documents/config.yaml",
                         "documents.service:DocumentsService"), "http://127.0.0.1:{DOCUMENTS_HTTP_PORT}/healthz"),
    Daemon("feedback", ("portal-nameko", "run", "--config", "services/feedback/config.yaml",
                        "feedback.service:FeedbackService"), "http://127.0.0.1:{FEEDBACK_HTTP_PORT}/healthz"),
    Daemon("analytics", ("portal-nameko", "run", "--config", "services/analytics/config.yaml",
                         "analytics.service:AnalyticsService"), "http://127.0.0.1:{ANALYTICS_HTTP_PORT}/healthz"),
    Task("bootstrap", ("portal-admin", "bootstrap")),   # admin account + demo data; idempotent
    Daemon("gateway", ("gunicorn", "--config", "gateway/gunicorn.conf.py", "gateway.wsgi:app"),
           "http://127.0.0.1:{GATEWAY_PORT}/readyz"),
)

DAEMONS = tuple(item for item in PLATFORM if isinstance(item, Daemon))


def health_url(daemon: Daemon) -> str:
    return daemon.health.format(**platform_env())


def _argv(command: tuple) -> list:
    program = BIN / command[0]
    if not program.exists():
        raise Failure(f"{rel(program)} does not exist: the Python packages do not provide '{command[0]}' yet")
    return [program, *command[1:]]


def start_all() -> None:
    """Start what is not running; run the tasks only when something had to be started."""
    _check_ports_free()
    waiting: list[Daemon] = []
    started_any = False
    for item in PLATFORM:
        if isinstance(item, Daemon):
            if _start(item):
                waiting.append(item)
                started_any = True
            continue
        _wait_healthy(waiting)
        waiting = []
        done = RUN / f"{item.name}.done"
        if started_any or not done.exists():
            _run_task(item)
            done.write_text("ran since the last make down\n")
        else:
            say(f"{item.name}: skipped (already ran, and every process before it was already running)")
    _wait_healthy(waiting)


def _check_ports_free() -> None:
    """Before starting anything: each port we are about to listen on must be free."""
    taken = []
    for daemon in DAEMONS:
        if Managed(daemon.name).pid() is None:
            host, port = host_port(health_url(daemon), 80)
            if net.tcp_open(host, port):
                taken.append(f"{daemon.name} needs {port} ({_port_var(daemon)})")
    if taken:
        raise Failure("ports already used by processes this stack did not start: " + "; ".join(taken) +
                      ". Stop those processes or change the port variables.")


def _start(daemon: Daemon) -> bool:
    process = Managed(daemon.name)
    pid = process.pid()
    url = health_url(daemon)
    if pid is not None:
        say(f"{daemon.name} already running (pid {pid})")
        return False
    host, port = host_port(url, 80)
    if net.tcp_open(host, port):
        raise Failure(f"{daemon.name}: port {port} is already used by a process this stack did not start; "
                      f"stop it or change {_port_var(daemon)}")
    pid = process.spawn(_argv(daemon.command), child_env())
    say(f"{daemon.name} started (pid {pid}), log {rel(process.log)}")
    return True


def _port_var(daemon: Daemon) -> str:
    return daemon.health.split("{", 1)[1].split("}", 1)[0]


def _wait_healthy(daemons: list) -> None:
    for daemon in daemons:
        process = Managed(daemon.name)
        url = health_url(daemon)
        started = time.monotonic()
        say(f"waiting for {daemon.name} ({url}, up to {daemon.timeout:.0f}s)")
        net.wait_for(lambda: net.http_ok(url, timeout=2.0), f"{daemon.name} ({url})", daemon.timeout,
                     process, process.log)
        say(f"{daemon.name} healthy in {took(started)}")


def _run_task(task: Task) -> None:
    started = time.monotonic()
    log = LOG / f"{task.name}.log"
    say(f"running {' '.join(task.command)}")
    with open(log, "ab") as out:
        try:
            result = subprocess.run([str(a) for a in _argv(task.command)], cwd=ROOT, env=child_env(),
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=out,
                                    timeout=task.timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f"{task.name}: did not finish in {task.timeout:.0f}s", tail(log)) from None
        out.write(result.stdout)
    for line in result.stdout.decode(errors="replace").splitlines():
        if line.strip():
            say(f"  {task.name}: {line}")
    if result.returncode != 0:
        raise Failure(f"{task.name} failed (exit {result.returncode})", tail(log))
    say(f"{task.name} done in {took(started)}")


def stop_all() -> None:
    for task in PLATFORM:
        if isinstance(task, Task):
            (RUN / f"{task.name}.done").unlink(missing_ok=True)
    def stop(daemon: Daemon) -> None:
        started = time.monotonic()
        pid = Managed(daemon.name).stop(timeout=20)
        if pid is not None:
            say(f"{daemon.name} stopped (pid {pid}) in {took(started)}")

    # Side by side: each gets SIGTERM now and up to 20 s to finish its work, not 20 s times five.
    with ThreadPoolExecutor(max_workers=len(DAEMONS)) as pool:
        list(pool.map(stop, DAEMONS))


def status_rows() -> list:
    rows = []
    for daemon in DAEMONS:
        pid = Managed(daemon.name).pid()
        url = health_url(daemon)
        healthy = net.http_ok(url, timeout=1.0) if pid is not None else False
        state = ("running" if healthy else "running (not healthy)") if pid is not None else "stopped"
        rows.append((daemon.name, state, pid or "-", url, "local" if pid else "-"))
    return rows


