"""Every environment variable the code reads is set for docker compose (.env.example) and for
Kubernetes (ConfigMap, Secret references, container env). The variables are found in the code
(tests/deploy/code_env.py), so one added by anyone is checked without changing this test."""
from __future__ import annotations

import textwrap
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from . import code_env
from .conftest import ROOT
from .manifests import (BACKENDS, configmaps_by_base_name, containers, env_names, of_kind, pod_labels,
                        portal_workloads, read_env_file)

# Read by the code, deliberately absent from the deployments (each with the reason).
NOT_DEPLOYED = {
    "RABBIT_MANAGEMENT_URI": "read only by portal_common.rabbit_admin, the tests' vhost helper",
}
# a loopback default names its backend by its port
BACKEND_BY_PORT = {5672: "rabbitmq", 27017: "mongodb", 9200: "elasticsearch"}


@pytest.fixture(scope="module")
def variables() -> dict[str, list[code_env.Read]]:
    return code_env.variables()


@pytest.fixture(scope="module")
def deployed(variables) -> dict[str, list[code_env.Read]]:
    return {name: reads for name, reads in variables.items() if name not in NOT_DEPLOYED}


# --- the discovery itself ----------------------------------------------------------------------

def test_discovery_finds_variables_in_settings_classes_environ_reads_and_nameko_configs(variables):
    assert {"AMQP_URI", "MONGO_URI", "ELASTICSEARCH_URL", "PORTAL_NAMESPACE"} <= set(variables)  # Settings
    assert {"JWT_SECRET", "RPC_TIMEOUT_S", "DEMO_DATA"} <= set(variables)       # GatewaySettings(Settings)
    assert {"GATEWAY_WORKERS", "GATEWAY_THREADS", "GATEWAY_HOST"} <= set(variables)  # gunicorn.conf.py
    assert {"NEWS_HTTP_PORT", "SERVICE_HTTP_HOST", "MAX_WORKERS"} <= set(variables)  # config.yaml
    assert not [name for name in variables if not name.isupper()]


def test_discovery_finds_a_variable_added_in_any_of_the_three_ways(tmp_path: Path):
    package = tmp_path / "services" / "polls" / "polls"
    package.mkdir(parents=True)
    (package / "settings.py").write_text(textwrap.dedent("""
        import os
        from pydantic import Field
        from pydantic_settings import BaseSettings, SettingsConfigDict
        from portal_common.settings import Settings

        class PollSettings(Settings):
            max_options: int = Field(10, alias="POLL_MAX_OPTIONS")

        class Quotas(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="QUOTA_")
            votes_per_day: int = 5

        TIMEOUT = float(os.environ.get("POLL_TIMEOUT_S", "2"))
        TOKEN = os.environ["POLL_TOKEN"]
        os.environ.setdefault("NOT_A_READ", "1")
    """))
    (tmp_path / "common" / "portal_common").mkdir(parents=True)
    (tmp_path / "common" / "portal_common" / "settings.py").write_text(textwrap.dedent("""
        from pydantic_settings import BaseSettings
        class Settings(BaseSettings):
            amqp_uri: str = Field("amqp://127.0.0.1:5672/", alias="AMQP_URI")
    """))
    (tmp_path / "gateway").mkdir()
    (tmp_path / "services" / "polls" / "config.yaml").write_text(
        "# ${COMMENTED:x} is not read\nAMQP_URI: ${AMQP_URI}\nWEB_SERVER_ADDRESS: 0.0.0.0:${POLLS_HTTP_PORT:8105}\n")
    found = code_env.variables(tmp_path)
    assert set(found) == {"POLL_MAX_OPTIONS", "QUOTA_VOTES_PER_DAY", "POLL_TIMEOUT_S", "POLL_TOKEN",
                          "AMQP_URI", "POLLS_HTTP_PORT"}
    assert found["POLL_TOKEN"][0].default is code_env.NO_DEFAULT
    assert found["POLLS_HTTP_PORT"][0].default == "8105"
    assert code_env.loopback_default(found["AMQP_URI"]) == "amqp://127.0.0.1:5672/"


def test_every_variable_left_out_of_the_deployments_is_still_read(variables):
    assert set(NOT_DEPLOYED) <= set(variables), "drop the stale entries of NOT_DEPLOYED"


# --- docker compose -------------------------------------------------------------------------------

def test_every_variable_is_in_the_compose_env_file(deployed):
    values, commented = read_env_file(ROOT / ".env.example")
    missing = sorted(set(deployed) - set(values) - commented)
    assert not missing, f"add to .env.example: {missing}"
    for name in commented:
        # left unset only where the code expects absence (a None default: it then makes its own)
        assert name in deployed, f"{name} is shown in .env.example but nothing reads it"
        assert all(read.default is None for read in deployed[name]), f"{name} must be set, not commented out"


def test_a_variable_with_a_loopback_default_is_set_to_a_compose_service(deployed, compose):
    values, _ = read_env_file(ROOT / ".env.example")
    for name, reads in deployed.items():
        if code_env.loopback_default(reads):
            host = urlsplit(values[name]).hostname
            assert host in compose["services"], f"{name}={values[name]}: not a compose service"


def test_compose_sets_no_variable_the_env_file_would_contradict(compose):
    values, _ = read_env_file(ROOT / ".env.example")
    for name, service in compose["services"].items():
        if any(f.get("path") == ".env.example" for f in service.get("env_file", [])):
            overlap = set(service.get("environment", {})) & set(values)
            assert not overlap, f"{name}: {overlap} set twice"


# --- Kubernetes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_variable_is_set_for_the_kubernetes_workloads(rendered, deployed, overlay):
    objects = rendered[overlay]
    configmaps = configmaps_by_base_name(objects)
    provided = set()
    for workload in portal_workloads(objects):
        for container in containers(workload):
            refs = [s["configMapRef"]["name"] for s in container.get("envFrom", []) if "configMapRef" in s]
            assert refs and all(r.startswith("portal-config") for r in refs), workload["metadata"]["name"]
            provided |= env_names(container, configmaps)
    missing = sorted(set(deployed) - provided)
    assert not missing, f"add to deploy/k8s/base/config.env or a container's env: {missing}"


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_a_pod_gets_a_backend_address_exactly_when_it_may_reach_that_backend(rendered, deployed, overlay):
    objects = rendered[overlay]
    configmaps = configmaps_by_base_name(objects)
    addresses = {}
    for name, reads in deployed.items():
        default = code_env.loopback_default(reads)
        if default:
            addresses[name] = BACKEND_BY_PORT[urlsplit(default).port]
    assert set(addresses.values()) == set(BACKENDS)
    for workload in portal_workloads(objects):
        labels = pod_labels(workload)
        for container in containers(workload):
            names = env_names(container, configmaps)
            for variable, backend in addresses.items():
                allowed = labels.get(f"portal.io/egress-{backend}") == "true"
                assert (variable in names) == allowed, (workload["metadata"]["name"], variable)


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_variables_without_a_default_come_from_the_secret(rendered, deployed, overlay):
    objects = rendered[overlay]
    (config,) = of_kind(objects, "ConfigMap")
    for name, reads in deployed.items():
        if not code_env.has_default(reads):
            assert name not in config["data"], f"{name} has no default: a secret, not configuration"
            refs = [e["valueFrom"]["secretKeyRef"]["name"] for w in portal_workloads(objects)
                    for c in containers(w) for e in c.get("env", [])
                    if e["name"] == name and "valueFrom" in e]
            assert refs and set(refs) == {"portal-secrets"}, name


def test_the_configuration_table_of_the_readme_names_every_variable(deployed):
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in deployed if f"`{name}`" not in readme)
    assert not missing, f"describe in the README's configuration table: {missing}"


def test_the_kubernetes_configuration_never_points_at_loopback():
    text = (ROOT / "deploy" / "k8s" / "base" / "config.env").read_text()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            assert key.isupper() and "127.0.0.1" not in value and "localhost" not in value, line
