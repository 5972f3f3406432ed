"""The Python environment (.venv) with the portal's packages installed editable.

Re-installed only when its inputs change: the sha256 of the constraints, the dev requirements and every
package's pyproject.toml is kept in var/stamps/python-env.sha256.
"""

import hashlib
import subprocess
import sys
import time

from . import system
from .paths import INSTALL_LOG, ROOT, STAMPS, VENV, rel
from .procs import run_logged
from .ui import Failure, say, took

CONSTRAINTS = "constraints.txt"
REQUIREMENTS = "requirements-dev.txt"
# The project's own packages, installed editable (one line per package).
PACKAGES = (
    "common",
    "services/news",
    "services/documents",
    "services/feedback",
    "services/analytics",
    "gateway",
)
STAMP = STAMPS / "python-env.sha256"
PYTHON = VENV / "bin" / "python"


def inputs() -> list:
    return [ROOT / CONSTRAINTS, ROOT / REQUIREMENTS] + [ROOT / package / "pyproject.toml" for package in PACKAGES]


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in inputs():
        digest.update(rel(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def ensure() -> None:
    missing = [rel(path) for path in inputs() if not path.exists()]
    if missing:
        raise Failure("python env: cannot install, these files are missing: " + ", ".join(missing) +
                      " (the project's Python packages provide them)")
    wanted = fingerprint()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        say(f"python env up to date ({rel(VENV)})")
        return
    started = time.monotonic()
    log = INSTALL_LOG / "pip.log"
    if not PYTHON.exists():
        _ensure_venv_module()
        say(f"creating {rel(VENV)} with {sys.executable}")
        run_logged([sys.executable, "-m", "venv", VENV], log, "python -m venv .venv", 300)
    say(f"installing the Python packages into {rel(VENV)} (a few minutes the first time; output in {rel(log)})")
    editable = [arg for package in PACKAGES for arg in ("-e", package)]
    run_logged([PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "-c", CONSTRAINTS,
                "-r", REQUIREMENTS, *editable], log, "pip install", 1800)
    STAMP.parent.mkdir(parents=True, exist_ok=True)
    STAMP.write_text(wanted + "\n")
    say(f"python env installed (pip) in {took(started)}")


def _ensure_venv_module() -> None:
    """Debian's own python3 ships `venv` without ensurepip until python3-venv is installed."""
    check = [sys.executable, "-c", "import ensurepip, venv"]
    if subprocess.run(check, capture_output=True).returncode == 0:
        return
    started = time.monotonic()
    say(f"installing python3-venv with apt-get ({sys.executable} cannot create a virtualenv without it)")
    system.apt_install(["python3-venv"])
    if subprocess.run(check, capture_output=True).returncode != 0:
        raise Failure(f"{sys.executable} still cannot create a virtualenv (no ensurepip) after installing python3-venv")
    say(f"python3-venv installed (apt) in {took(started)}")


def exists() -> bool:
    return PYTHON.exists()


def state() -> str:
    if not PYTHON.exists():
        return "missing"
    if not all(path.exists() for path in inputs()):
        return "installed (requirement files missing)"
    current = STAMP.exists() and STAMP.read_text().strip() == fingerprint()
    return "up to date" if current else "outdated (make up / make test reinstalls)"

