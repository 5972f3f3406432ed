"""Debian packages: installed with apt-get, only when missing."""

import os
import shutil
import subprocess
from pathlib import Path

from .paths import INSTALL_LOG, rel
from .procs import run_logged
from .ui import Failure

APT_LOG = INSTALL_LOG / "apt.log"
POLICY = Path("/usr/sbin/policy-rc.d")


def privileged(argv: list) -> list:
    """The command as root: directly when we are root, else through sudo (never prompting)."""
    if os.geteuid() == 0:
        return argv
    if shutil.which("sudo"):
        return ["sudo", "-n", *argv]
    raise Failure(f"'{' '.join(map(str, argv[:2]))}' needs root, and sudo is not available")


def installed_version(package: str) -> str | None:
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Status}\t${Version}", package],
                             capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    status, _, version = out.partition("\t")
    return version if status == "install ok installed" else None


def apt_install(packages: list, no_service_start: bool = False) -> None:
    """apt-get update, then install ``packages`` (without recommends).

    With ``no_service_start``, a temporary policy-rc.d keeps the packages' init scripts from starting
    system-wide daemons (it is removed afterwards, unless it was there before).
    """
    if not shutil.which("apt-get"):
        raise Failure(f"{', '.join(packages)}: not installed, and there is no apt-get to install it")
    created_policy = False
    if no_service_start and not POLICY.exists():
        subprocess.run(privileged(["sh", "-c", f"printf '#!/bin/sh\\nexit 101\\n' > {POLICY} && chmod 755 {POLICY}"]),
                       check=True)
        created_policy = True
    try:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run_logged(privileged(["apt-get", "update"]), APT_LOG, "apt-get update", 900, env)
        run_logged(privileged(["apt-get", "install", "-y", "--no-install-recommends", *packages]),
                   APT_LOG, f"apt-get install {' '.join(packages)}", 1200, env)
    finally:
        if created_policy:
            subprocess.run(privileged(["rm", "-f", str(POLICY)]), check=False)


def apt_log() -> str:
    return rel(APT_LOG)

