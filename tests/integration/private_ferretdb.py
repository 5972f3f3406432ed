"""A private FerretDB for tests that stop the database: own port, own data directory.

Never the shared server. The binary is the one the local stack builds (``var/tools/bin/
ferretdb``, of this checkout or, in a git worktree, of the main checkout); ``FERRETDB_BIN``
overrides. Stopping and starting keeps the data directory, like a real database restart.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def ferretdb_binary() -> Path | None:
    candidates = [os.environ.get("FERRETDB_BIN"), ROOT / "var" / "tools" / "bin" / "ferretdb"]
    try:  # a worktree shares the main checkout's built tools
        common = subprocess.run(["git", "rev-parse", "--git-common-dir"], cwd=ROOT,
                                capture_output=True, text=True, timeout=5).stdout.strip()
        if common:
            candidates.append((ROOT / common).resolve().parent / "var" / "tools" / "bin" /
                              "ferretdb")
    except (OSError, subprocess.SubprocessError):
        pass
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateFerretDB:
    def __init__(self, binary: Path):
        self.binary = binary
        self.port = _free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="ferretdb-test-"))
        (self.workdir / "data").mkdir()
        (self.workdir / "state").mkdir()
        self.process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 20.0) -> None:
        log = open(self.workdir / "ferretdb.log", "ab")
        self.process = subprocess.Popen(
            [str(self.binary), "--handler=sqlite", f"--sqlite-url=file:{self.workdir}/data/",
             f"--listen-addr=127.0.0.1:{self.port}", "--telemetry=disable", "--log-level=warn",
             "--debug-addr=-", f"--state-dir={self.workdir}/state"],
            cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        raise RuntimeError(f"private FerretDB did not start: {(self.workdir / 'ferretdb.log').read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None


@pytest.fixture
def private_ferretdb():
    binary = ferretdb_binary()
    if binary is None:
        pytest.skip("no FerretDB binary (run `make up` once, or set FERRETDB_BIN)")
    server = PrivateFerretDB(binary)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.workdir, ignore_errors=True)
