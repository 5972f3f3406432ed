"""Starting and stopping the servers a benchmark measures: one place for all of them.

``start`` runs a command in its own process group with its output in a log file and returns once
it is ready (a URL answers 200, or a check says so), or raises with the log's tail; ``stop``
ends the whole group, asking first and killing after 20 s.
"""
from __future__ import annotations

import functools
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list, env: dict, log: Path, ready: str | Callable[[], bool],
          timeout: float = 90) -> subprocess.Popen:
    with log.open("a") as out:  # a process started again (a restart) adds to its log
        process = subprocess.Popen([str(part) for part in command], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    is_ready = ready if callable(ready) else functools.partial(_answers, ready)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited:\n{log.read_text()[-3000:]}")
        if is_ready():
            return process
        time.sleep(0.3)
    stop(process)
    raise RuntimeError(f"{command[0]} did not become ready:\n{log.read_text()[-3000:]}")


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        except ProcessLookupError:
            pass
    except ProcessLookupError:
        pass
