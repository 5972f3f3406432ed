"""docker-compose.yml: valid for the Compose specification (its JSON schema as vendored by
check-jsonschema), and started in an order that works: backends healthy, then the services,
then the one-shot bootstrap, then the gateway."""
from __future__ import annotations

import copy
import importlib.resources
import json
import re

import jsonschema
import pytest

from portal_common.events.consumer import MAX_OUTAGE_WAIT_S

from .conftest import ROOT
from .manifests import duration_s, read_env_file

SERVICES = ("news", "documents", "feedback", "analytics")
PORTAL = (*SERVICES, "bootstrap", "gateway")
BACKENDS = ("rabbitmq", "mongo", "elasticsearch")
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")


def compose_schema() -> dict:
    vendored = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    return json.loads(vendored.read_text())


def interpolate(node, environ: dict[str, str]):
    """What docker compose does before validating: ${VAR}, ${VAR:-default}, ${VAR-default}."""
    if isinstance(node, dict):
        return {k: interpolate(v, environ) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, environ) for v in node]
    if isinstance(node, str):
        return INTERPOLATION.sub(lambda m: environ.get(m.group(1)) or m.group(2) or "", node)
    return node


def validate(document: dict) -> None:
    schema = compose_schema()
    jsonschema.validators.validator_for(schema)(schema).validate(document)


@pytest.fixture(scope="module")
def interpolated(compose):
    return interpolate(compose, {})


def test_the_vendored_schema_is_the_compose_specification():
    schema = compose_schema()
    assert schema["title"] == "Compose Specification"
    assert {"services", "volumes", "networks"} <= set(schema["properties"])


def test_the_compose_file_is_valid_for_the_compose_specification(interpolated):
    validate(interpolated)


@pytest.mark.parametrize("breakage", ["unknown condition", "misspelt key", "healthcheck as text"])
def test_a_broken_compose_file_is_rejected(interpolated, breakage):
    broken = copy.deepcopy(interpolated)
    gateway = broken["services"]["gateway"]
    if breakage == "unknown condition":
        gateway["depends_on"]["bootstrap"]["condition"] = "service_finished"
    elif breakage == "misspelt key":
        gateway["depend_on"] = gateway.pop("depends_on")
    else:
        gateway["healthcheck"] = "python healthcheck.py"
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)


def test_the_platform_starts_in_order_of_health(interpolated):
    services = interpolated["services"]
    assert set(services) == {*BACKENDS, *PORTAL}
    for name in SERVICES:
        depends = services[name]["depends_on"]
        assert depends["rabbitmq"] == depends["mongo"] == {"condition": "service_healthy"}
    assert services["documents"]["depends_on"]["elasticsearch"] == {"condition": "service_healthy"}
    assert services["bootstrap"]["depends_on"] == {name: {"condition": "service_healthy"} for name in SERVICES}
    assert services["gateway"]["depends_on"]["bootstrap"] == {"condition": "service_completed_successfully"}
    for name, service in services.items():
        for dependency, how in service.get("depends_on", {}).items():
            if how["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{name} waits for {dependency}'s health"
    assert services["bootstrap"]["restart"] == "no"
    assert services["bootstrap"]["entrypoint"] == ["portal-admin", "bootstrap"]


def test_portal_containers_are_built_here_hardened_and_configured_from_the_env_file(interpolated):
    services = interpolated["services"]
    dockerfile = (ROOT / "deploy" / "docker" / "Dockerfile").read_text()
    stages = set(re.findall(r"^FROM \S+ AS (\S+)$", dockerfile, re.M))
    for name in PORTAL:
        service = services[name]
        target = "gateway" if name == "bootstrap" else name
        assert service["build"] == {"context": ".", "dockerfile": "deploy/docker/Dockerfile", "target": target}
        assert target in stages
        assert service["image"] == f"union-portal/{target}:dev"
        assert service["env_file"][0] == {"path": ".env.example"}
        assert service["env_file"][1] == {"path": ".env", "required": False}
        assert service["user"] == "10001:10001" and service["read_only"] is True
        assert service["cap_drop"] == ["ALL"] and "no-new-privileges:true" in service["security_opt"]


def test_state_lives_in_named_volumes(interpolated):
    declared = set(interpolated["volumes"])
    used = set()
    for service in interpolated["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert not source.startswith((".", "/")), f"bind mount {volume}: use a named volume"
            used.add(source)
    assert used == declared
    mounts = {name: s.get("volumes", []) for name, s in interpolated["services"].items()}
    assert "rabbitmq-data:/var/lib/rabbitmq" in mounts["rabbitmq"]
    assert "mongo-data:/data/db" in mounts["mongo"]
    assert "es-data:/usr/share/elasticsearch/data" in mounts["elasticsearch"]
    assert mounts["bootstrap"] == mounts["gateway"] == ["portal-state:/var/lib/portal"]


def test_only_the_gateway_and_the_broker_console_are_published_and_on_loopback(interpolated):
    published = {name: s["ports"] for name, s in interpolated["services"].items() if "ports" in s}
    assert published == {"gateway": ["127.0.0.1:8080:8080"], "rabbitmq": ["127.0.0.1:15672:15672"]}


def test_backend_images_are_pinned_and_match_what_the_tests_and_kubernetes_run(interpolated, rendered):
    services = interpolated["services"]
    assert services["rabbitmq"]["image"].startswith("rabbitmq:3.")
    assert services["mongo"]["image"].startswith("mongo:7.")
    pom = (ROOT / "deploy" / "local" / "elasticsearch" / "pom.xml").read_text()
    es_version = re.search(r"<es\.version>([^<]+)</es\.version>", pom).group(1)
    assert services["elasticsearch"]["image"] == f"docker.elastic.co/elasticsearch/elasticsearch:{es_version}"
    for name in BACKENDS:
        assert re.search(r":\d+\.\d+\.\d+", services[name]["image"]), services[name]["image"]
    dev_images = {c["image"] for o in rendered["dev"] if o["kind"] == "StatefulSet"
                  for c in o["spec"]["template"]["spec"]["containers"]}
    assert dev_images == {services[name]["image"] for name in BACKENDS}


def test_elasticsearch_runs_as_one_node_without_security_for_local_use(interpolated):
    environment = interpolated["services"]["elasticsearch"]["environment"]
    assert environment["discovery.type"] == "single-node"
    assert environment["xpack.security.enabled"] == "false"


def test_stopping_gives_handlers_the_time_k8s_gives_them(interpolated, rendered):
    services = interpolated["services"]
    for name in SERVICES:
        grace = duration_s(services[name]["stop_grace_period"])
        assert grace >= MAX_OUTAGE_WAIT_S + 20
        deployment = next(o for o in rendered["prod"] if o["kind"] == "Deployment" and o["metadata"]["name"] == name)
        assert grace == deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]


def test_the_broker_user_is_the_one_the_services_connect_with(interpolated):
    values, _ = read_env_file(ROOT / ".env.example")
    environment = interpolated["services"]["rabbitmq"]["environment"]
    user, password = environment["RABBITMQ_DEFAULT_USER"], environment["RABBITMQ_DEFAULT_PASS"]
    assert values["AMQP_URI"].startswith(f"amqp://{user}:{password}@rabbitmq:5672/")

