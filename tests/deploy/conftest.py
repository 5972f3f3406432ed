"""Deployment files, checked offline: no Docker engine, no cluster, no network.

What is real: kustomize itself (built once from the Go module proxy by deploy/k8s/kustomize and
cached in var/tools/bin/), the Kubernetes JSON schemas shipped by kubernetes-validate, the
compose-spec schema vendored by check-jsonschema, hadolint. Nothing is started and no server of
the test stack is used.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUSTOMIZE = K8S / "kustomize"
OVERLAYS = ("dev", "prod")


def kustomize_build(path: Path) -> subprocess.CompletedProcess:
    # the first call may build kustomize (about a minute, once per machine)
    return subprocess.run([str(KUSTOMIZE), "build", str(path)], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)


def render(path: Path) -> list[dict]:
    result = kustomize_build(path)
    assert result.returncode == 0, f"kustomize build {path} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict]]:
    """Every overlay, built: {"dev": [objects], "prod": [...], "prod-backends": [...]}."""
    built = {name: render(K8S / "overlays" / name) for name in OVERLAYS}
    built["prod-backends"] = render(K8S / "overlays" / "prod" / "backends")
    return built


@pytest.fixture(scope="session")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())
