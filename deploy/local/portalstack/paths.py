"""Where things live. Every file the stack writes is under ``var/`` (plus the ``.venv`` it creates)."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
VAR = ROOT / "var"
LOG = VAR / "log"              # one <name>.log per long-running process: what `make logs` shows
INSTALL_LOG = LOG / "install"  # output of apt-get, go build, pip, the Elasticsearch build
RUN = VAR / "run"              # <name>.pid of every process we started, plus ownership stamps
STAMPS = VAR / "stamps"        # what was installed from which inputs, so a second run skips it
TOOLS = VAR / "tools" / "bin"  # binaries we built (ferretdb)
BUILD = VAR / "build"          # scratch source trees for those builds
VENV = ROOT / ".venv"
DEPLOY = ROOT / "deploy" / "local"


def rel(path) -> str:
    """A path as the user would type it from the repository root."""
    try:
        return os.path.relpath(path, ROOT)
    except ValueError:
        return str(path)


def ensure_dirs() -> None:
    for directory in (LOG, INSTALL_LOG, RUN, STAMPS, TOOLS, BUILD):
        directory.mkdir(parents=True, exist_ok=True)
