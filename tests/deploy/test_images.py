"""deploy/docker/Dockerfile: linted by hadolint, and each process's target runs what `make up`
runs, as an unprivileged user, with a health check and dependencies from the lock."""
from __future__ import annotations

import fnmatch
import http.server
import json
import platform
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "deploy" / "local"))
sys.path.insert(0, str(ROOT / "deploy" / "docker"))
import healthcheck  # noqa: E402
import requirements  # noqa: E402
from portalstack import apps  # noqa: E402

DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
PORTS = {"gateway": 8080, "news": 8101, "documents": 8102, "feedback": 8103, "analytics": 8104}


def stages(path: Path = DOCKERFILE) -> dict[str, dict]:
    """{stage name: {"from": parent, "instructions": [(INSTRUCTION, value), ...]}}"""
    parsed, found, current = DockerfileParser(path=str(path)), {}, None
    for item in parsed.structure:
        if item["instruction"] == "FROM":
            image, _, name = item["value"].partition(" AS ")
            current = found[name.strip()] = {"from": image.strip(), "instructions": []}
        elif current is not None and item["instruction"] != "COMMENT":
            current["instructions"].append((item["instruction"], item["value"]))
    return found


def chain(all_stages: dict, name: str) -> list[str]:
    names = [name]
    while all_stages[names[-1]]["from"] in all_stages:
        names.append(all_stages[names[-1]]["from"])
    return names


def last(all_stages: dict, name: str, instruction: str) -> str | None:
    for stage in chain(all_stages, name):
        values = [v for i, v in all_stages[stage]["instructions"] if i == instruction]
        if values:
            return values[-1]
    return None


def hadolint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "hadolint"), "--no-color", str(path)],
                          capture_output=True, text=True, timeout=60)


# --- lint --------------------------------------------------------------------------------------

def test_hadolint_finds_nothing_in_the_dockerfile():
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_rejects_an_unpinned_root_image(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install flask\nUSER root\nCMD python app.py\n")
    result = hadolint(bad)
    assert result.returncode != 0
    assert {"DL3007", "DL3013", "DL3002", "DL3025"} <= set(re.findall(r"DL\d{4}", result.stdout))


# --- what each image runs ------------------------------------------------------------------------

@pytest.mark.parametrize("target", sorted(PORTS))
def test_each_image_runs_what_make_up_runs_as_an_unprivileged_user(target):
    all_stages = stages()
    assert chain(all_stages, target)[-2:] == ["runtime", "base"]
    instructions = all_stages[target]["instructions"]
    entrypoint = json.loads(last(all_stages, target, "ENTRYPOINT"))  # exec form or this fails
    daemon = next(d for d in apps.DAEMONS if d.name == target)
    assert entrypoint[0] == daemon.command[0]
    assert entrypoint[-1] == daemon.command[-1]  # the same Nameko service class or WSGI app
    config_source = daemon.command[daemon.command.index("--config") + 1]
    config_in_image = entrypoint[entrypoint.index("--config") + 1]
    assert ("COPY", f"{config_source} {config_in_image}") in instructions
    kinds = [i for i, _ in instructions]
    assert kinds[-1] == "ENTRYPOINT" and "USER" in kinds and kinds.index("USER") > max(
        n for n, k in enumerate(kinds) if k == "RUN"), "USER after the last RUN"
    assert last(all_stages, target, "USER") == "10001:10001"
    assert last(all_stages, target, "EXPOSE") == str(PORTS[target])
    assert f"PORTAL_SERVICE={target}" in last(all_stages, target, "ENV")
    health = last(all_stages, target, "HEALTHCHECK")
    assert json.loads(health.split("CMD", 1)[1].strip())[:2] == ["python", "/usr/local/lib/portal/healthcheck.py"]


def test_the_base_image_is_pinned_to_the_python_the_tests_run_on():
    parsed = DockerfileParser(path=str(DOCKERFILE))
    (arg,) = [i["value"] for i in parsed.structure if i["instruction"] == "ARG" and "PYTHON_IMAGE" in i["value"]]
    image = arg.split("=", 1)[1]
    assert image == f"python:{platform.python_version()}-slim-bookworm"
    assert stages()["base"]["from"] == "${PYTHON_IMAGE}"


def test_every_dependency_installed_in_the_images_is_locked():
    pyprojects = [ROOT / p / "pyproject.toml" for p in
                  ("common", "gateway", "services/news", "services/documents", "services/feedback", "services/analytics")]
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[requirements.requirement_name(name)] = version
    third_party = [requirements.requirement_name(r) for r in requirements.third_party(pyprojects)]
    assert third_party and not [name for name in third_party if name not in pins]
    assert "setuptools" in pins, "the wheels' build backend (PIP_CONSTRAINT in the Dockerfile)"
    deps = " ".join(v for i, v in stages()["deps"]["instructions"] if i == "RUN")
    assert "-c constraints.txt" in deps and "requirements.py" in deps
    for path in pyprojects:  # the deps stage copies every pyproject it reads
        assert ("COPY", f"{path.relative_to(ROOT)} {path.parent.relative_to(ROOT)}/") in stages()["deps"]["instructions"]


def test_requirements_lists_third_party_dependencies_once_without_the_projects_own(tmp_path):
    one, two = tmp_path / "one.toml", tmp_path / "two.toml"
    one.write_text('[project]\nname = "portal-x"\ndependencies = ["portal-common", "Flask>=3,<4", "pika"]\n')
    two.write_text('[project]\nname = "portal-y"\ndependencies = ["pika", "python_slugify"]\n')
    assert requirements.third_party([one, two]) == ["Flask>=3,<4", "pika", "python_slugify"]
    with pytest.raises(ValueError):
        requirements.requirement_name(">=3")


# --- the health probe -------------------------------------------------------------------------------

def test_the_probe_reads_the_port_the_process_reads():
    assert healthcheck.probe_url({"PORTAL_SERVICE": "news"}) == "http://127.0.0.1:8101/healthz"
    assert healthcheck.probe_url({"PORTAL_SERVICE": "news", "NEWS_HTTP_PORT": "9101"}, ready=True) == \
        "http://127.0.0.1:9101/readyz"
    assert healthcheck.probe_url({"PORTAL_SERVICE": "gateway", "GATEWAY_PORT": "9080"}) == "http://127.0.0.1:9080/healthz"
    with pytest.raises(SystemExit):
        healthcheck.probe_url({})


@pytest.fixture
def ops_server():
    """A loopback HTTP server answering /healthz 200 and /readyz 503."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/healthz" else 503)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_probe_passes_on_200_and_fails_otherwise(ops_server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # never used for loopback
    assert healthcheck.healthy(f"http://127.0.0.1:{ops_server}/healthz")
    assert not healthcheck.healthy(f"http://127.0.0.1:{ops_server}/readyz")
    monkeypatch.setenv("PORTAL_SERVICE", "analytics")
    monkeypatch.setenv("ANALYTICS_HTTP_PORT", str(ops_server))
    assert healthcheck.main([]) == 0
    assert healthcheck.main(["--ready"]) == 1


def test_the_probe_fails_when_nothing_listens():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert not healthcheck.healthy(f"http://127.0.0.1:{port}/healthz", timeout=1)


# --- the build context ------------------------------------------------------------------------------

def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    excluded = False
    parts = path.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        regex = fnmatch.translate(pattern).replace(".*", "[^/]*").replace("[^/]*[^/]*", ".*")
        if pattern.startswith("**/"):
            regex = "(?:.*/)?" + fnmatch.translate(pattern[3:]).replace(".*", "[^/]*")
        if any(re.fullmatch(regex, candidate) for candidate in candidates):
            excluded = not negate
    return excluded


def test_the_build_context_holds_what_the_dockerfile_copies_and_no_local_state():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    sources = set()
    for stage in stages().values():
        for instruction, value in stage["instructions"]:
            if instruction == "COPY" and not value.startswith("--from"):
                sources.update(value.split()[:-1])
    assert sources
    for source in sources:
        for path in (ROOT / source).rglob("*") if (ROOT / source).is_dir() else [ROOT / source]:
            relative = str(path.relative_to(ROOT))
            if "__pycache__" not in relative and ".egg-info" not in relative:
                assert not dockerignored(relative, patterns), relative
    for local in (".env", "var/admin-password", ".venv/bin/python", "tests/conftest.py", ".git/HEAD",
                  "deploy/local/stack.py", "services/news/news/__pycache__/x.pyc", "README.md"):
        assert dockerignored(local, patterns), local
