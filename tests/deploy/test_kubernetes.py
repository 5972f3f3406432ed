"""deploy/k8s: each overlay builds with kustomize, every object is valid for the Kubernetes API
(JSON schemas of kubernetes-validate, strict: an unknown or misspelt field fails), and the
objects fit together the way ops rely on (selectors, probes, policies, hardening)."""
from __future__ import annotations

import copy
import importlib.util
import re
import shutil

import kubernetes_validate
import pytest

from portal_common.events.consumer import MAX_OUTAGE_WAIT_S

from .conftest import K8S, ROOT, kustomize_build
from .manifests import (BACKENDS, containers, of_kind, named, pod_labels, pod_spec, portal_workloads,
                        read_env_file, selects, workloads)

# The oldest Kubernetes we support (PodDisruptionBudget.unhealthyPodEvictionPolicy is GA there)
# and the newest the schema package ships.
KUBERNETES_VERSIONS = ("1.31", "1.37")
SERVICES = {"news": 8101, "documents": 8102, "feedback": 8103, "analytics": 8104}
PROCESSES = {**SERVICES, "gateway": 8080}
# which backends each workload must reach, and nothing more
EGRESS = {"gateway": {"rabbitmq", "mongodb", "elasticsearch"}, "news": {"rabbitmq", "mongodb"},
          "documents": {"rabbitmq", "mongodb", "elasticsearch"}, "feedback": {"rabbitmq", "mongodb"},
          "analytics": {"rabbitmq", "mongodb"}, "portal-bootstrap": {"rabbitmq", "mongodb"}}
BACKEND_PORTS = {"rabbitmq": 5672, "mongodb": 27017, "elasticsearch": 9200}
OVERLAYS = ("dev", "prod")


def _validate(obj: dict, version: str) -> None:
    kubernetes_validate.validate(obj, version, strict=True)


# --- schemas ---------------------------------------------------------------------------------

@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_of_an_overlay_is_valid_for_the_kubernetes_api(rendered, overlay, version):
    objects = rendered[overlay]
    assert len(objects) > 25
    errors = []
    for obj in objects:
        try:
            _validate(obj, version)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {'.'.join(map(str, exc.path))}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message}")
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_prod_backends_built_in_objects_are_valid(rendered, version):
    builtin = [o for o in rendered["prod-backends"] if "." not in o["apiVersion"].split("/")[0]
               or o["apiVersion"].startswith("networking.k8s.io/")]
    assert {o["kind"] for o in builtin} == {"Namespace", "NetworkPolicy"}
    for obj in builtin:
        _validate(obj, version)


@pytest.mark.parametrize("breakage", ["misspelt field", "wrong type", "missing required field"])
def test_a_broken_object_is_rejected_by_the_schemas(rendered, breakage):
    deployment = copy.deepcopy(named(rendered["prod"], "Deployment", "news"))
    container = pod_spec(deployment)["containers"][0]
    if breakage == "misspelt field":
        container["readinesProbe"] = container.pop("readinessProbe")
    elif breakage == "wrong type":
        container["ports"][0]["containerPort"] = "eight thousand"
    else:
        del container["name"]
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(deployment, KUBERNETES_VERSIONS[-1])


def test_kustomize_refuses_a_kustomization_naming_a_missing_resource(tmp_path):
    base = tmp_path / "base"
    shutil.copytree(K8S / "base", base)
    kustomization = base / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace(
        "  - ingress.yaml\n", "  - ingress.yaml\n  - does-not-exist.yaml\n"))
    result = kustomize_build(base)
    assert result.returncode != 0
    assert "does-not-exist.yaml" in result.stderr


# --- the objects fit together ------------------------------------------------------------------

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_process_has_a_deployment_service_autoscaler_and_disruption_budget(rendered, overlay):
    objects = rendered[overlay]
    for name, port in PROCESSES.items():
        deployment = named(objects, "Deployment", name)
        assert "replicas" not in deployment["spec"], "the HorizontalPodAutoscaler owns the count"
        labels = pod_labels(deployment)
        assert selects(deployment["spec"]["selector"], labels)
        service = named(objects, "Service", name)
        assert selects(service["spec"]["selector"], labels)
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
        container = pod_spec(deployment)["containers"][0]
        assert [p["containerPort"] for p in container["ports"]] == [port]
        assert service["spec"]["ports"][0]["targetPort"] == container["ports"][0]["name"]
        hpa = named(objects, "HorizontalPodAutoscaler", name)
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        pdb = named(objects, "PodDisruptionBudget", name)
        assert selects(pdb["spec"]["selector"], labels)
        assert pdb["spec"].get("maxUnavailable") == 1, "maxUnavailable keeps drains possible at one replica"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_use_the_ops_endpoints_on_a_declared_port(rendered, overlay):
    for name in PROCESSES:
        container = pod_spec(named(rendered[overlay], "Deployment", name))["containers"][0]
        port_names = {p["name"] for p in container["ports"]}
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert container[probe]["httpGet"]["port"] in port_names, (name, probe)
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        # services: not ready without broker and database; the gateway: see gateway.yaml
        assert container["readinessProbe"]["httpGet"]["path"] == ("/healthz" if name == "gateway" else "/readyz")


def _grace(workload: dict) -> int:
    return pod_spec(workload)["terminationGracePeriodSeconds"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_are_given_time_to_finish_an_event_held_through_an_outage(rendered, overlay):
    for name in SERVICES:
        grace = _grace(named(rendered[overlay], "Deployment", name))
        # the hold, one last backend attempt (timeouts of 3-5 s, back-off up to 10 s), the ack
        assert MAX_OUTAGE_WAIT_S + 20 <= grace <= MAX_OUTAGE_WAIT_S + 60, grace


def test_the_gateway_is_given_time_to_drain_requests(rendered):
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gateway" / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    gateway = named(rendered["prod"], "Deployment", "gateway")
    pre_stop = pod_spec(gateway)["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    assert _grace(gateway) > int(pre_stop[1]) + conf.graceful_timeout


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_hardened(rendered, overlay):
    """Non-root, no privilege escalation, no capabilities, RuntimeDefault seccomp, sized."""
    for workload in workloads(rendered[overlay]):
        name = f"{workload['kind']}/{workload['metadata']['name']}"
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] > 0, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["enableServiceLinks"] is False, name
        for container in containers(workload):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert "readOnlyRootFilesystem" in context, f"{name}: say whether the root filesystem is writable"
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][kind]), (name, kind)
            image = container["image"]
            assert re.search(r":[\w][\w.-]*$", image.rsplit("/", 1)[-1]) and not image.endswith(":latest"), image


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_portal_processes_run_on_a_read_only_root_filesystem(rendered, overlay):
    for workload in portal_workloads(rendered[overlay]):
        for container in containers(workload):
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, workload["metadata"]["name"]
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            assert "/tmp" in mounts


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_namespace_enforces_the_restricted_pod_security_standard(rendered, overlay):
    (namespace,) = of_kind(rendered[overlay], "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert all(o["metadata"].get("namespace") == namespace["metadata"]["name"]
               for o in rendered[overlay] if o["kind"] != "Namespace")


# --- network -------------------------------------------------------------------------------------

def _policies(objects, policy_type):
    return [p for p in of_kind(objects, "NetworkPolicy") if policy_type in p["spec"]["policyTypes"]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_everything_is_denied_unless_a_policy_allows_it(rendered, overlay):
    deny = named(rendered[overlay], "NetworkPolicy", "default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_process_reaches_only_its_own_backends_and_dns(rendered, overlay):
    objects = rendered[overlay]
    for workload in portal_workloads(objects):
        labels = pod_labels(workload)
        reached, dns = set(), False
        for policy in _policies(objects, "Egress"):
            if not selects(policy["spec"]["podSelector"], labels):
                continue
            for rule in policy["spec"].get("egress", []):
                ports = {p["port"] for p in rule.get("ports", [])}
                assert rule.get("to"), f"{policy['metadata']['name']} allows egress to anywhere"
                for peer in rule["to"]:
                    assert "ipBlock" not in peer or overlay == "prod"
                    backend = peer.get("podSelector", {}).get("matchLabels", {}).get("portal.io/backend")
                    if backend:
                        assert ports == {BACKEND_PORTS[backend]}, policy["metadata"]["name"]
                        reached.add(backend)
                    elif peer.get("podSelector", {}).get("matchLabels", {}).get("k8s-app") == "kube-dns":
                        assert ports == {53}
                        dns = True
                    else:
                        pytest.fail(f"{policy['metadata']['name']}: unexpected egress peer {peer}")
        assert dns, workload["metadata"]["name"]
        assert reached == EGRESS[workload["metadata"]["name"]], workload["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_gateway_is_reachable_from_outside_the_namespace(rendered, overlay):
    objects = rendered[overlay]
    for policy in _policies(objects, "Ingress"):
        for rule in policy["spec"].get("ingress", []):
            assert rule.get("from"), f"{policy['metadata']['name']} allows ingress from anywhere"
            for peer in rule["from"]:
                namespace = peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
                if namespace is None:
                    continue  # a peer inside the namespace (dev backends from the portal's pods)
                ports = {p["port"] for p in rule["ports"]}
                if namespace == "monitoring":
                    assert ports == {"http"}, "Prometheus scrapes the metrics port only"
                    continue
                assert namespace == "ingress-nginx"
                selected = [w["metadata"]["name"] for w in workloads(objects)
                            if selects(policy["spec"]["podSelector"], pod_labels(w))]
                assert selected == ["gateway"] and ports == {8080}
    for ingress in of_kind(objects, "Ingress"):
        backends = [path["backend"]["service"]["name"] for rule in ingress["spec"]["rules"]
                    for path in rule["http"]["paths"]]
        assert backends == ["gateway"]
        assert [path["path"] for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]] == ["/api"]
    assert all(s["spec"].get("type", "ClusterIP") == "ClusterIP" for s in of_kind(objects, "Service"))


def test_the_dev_backends_accept_only_the_portal_pods_meant_for_them(rendered):
    objects = rendered["dev"]
    for backend in BACKENDS:
        statefulset = named(objects, "StatefulSet", "elasticsearch" if backend == "elasticsearch" else backend)
        assert pod_labels(statefulset)["portal.io/backend"] == backend
        assert named(objects, "Service", backend)["spec"]["clusterIP"] == "None"
        policy = named(objects, "NetworkPolicy", f"{backend}-from-portal")
        assert selects(policy["spec"]["podSelector"], pod_labels(statefulset))
        (rule,) = policy["spec"]["ingress"]
        assert rule["from"] == [{"podSelector": {"matchLabels": {f"portal.io/egress-{backend}": "true"}}}]
        assert [p["port"] for p in rule["ports"]] == [BACKEND_PORTS[backend]]


def test_the_prod_backends_are_where_the_prod_egress_policies_look(rendered):
    backends = rendered["prod-backends"]
    (namespace,) = of_kind(backends, "Namespace")
    pod_labels_by_kind = {
        "RabbitmqCluster": lambda o: o["spec"]["override"]["statefulSet"]["spec"]["template"]["metadata"]["labels"],
        "MongoDBCommunity": lambda o: o["spec"]["statefulSet"]["spec"]["template"]["metadata"]["labels"],
        "Elasticsearch": lambda o: o["spec"]["nodeSets"][0]["podTemplate"]["metadata"]["labels"],
    }
    labelled = {kind: read(named(backends, kind, o["metadata"]["name"]))["portal.io/backend"]
                for kind, read in pod_labels_by_kind.items() for o in of_kind(backends, kind)}
    assert sorted(labelled.values()) == sorted(BACKENDS)
    for backend in BACKENDS:
        policy = named(rendered["prod"], "NetworkPolicy", f"egress-{backend}")
        (rule,) = policy["spec"]["egress"]
        (peer,) = rule["to"]
        assert peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == namespace["metadata"]["name"]
        assert peer["podSelector"]["matchLabels"] == {"portal.io/backend": backend}
        inbound = named(backends, "NetworkPolicy", f"{backend}-from-portal")
        portal_rule = inbound["spec"]["ingress"][0]
        assert portal_rule["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "portal"
        assert portal_rule["from"][0]["podSelector"]["matchLabels"] == {f"portal.io/egress-{backend}": "true"}
        assert [p["port"] for p in portal_rule["ports"]] == [BACKEND_PORTS[backend]]
    (prod_namespace,) = of_kind(rendered["prod"], "Namespace")
    assert prod_namespace["metadata"]["name"] == "portal"


# --- secrets and configuration ---------------------------------------------------------------------

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_value_is_committed_and_every_secret_key_is_in_a_template(rendered, overlay):
    objects = rendered[overlay]
    assert not of_kind(objects, "Secret"), "Secrets are created out of the repository"
    templates = {}
    for path in (K8S / "secrets").glob("*.env.example"):
        values, _ = read_env_file(path)
        assert values and not any(values.values()), f"{path.name} must list keys without values"
        templates[path.name.removesuffix(".env.example")] = set(values)
    used: dict[str, set] = {}
    for workload in workloads(objects):
        for container in containers(workload):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    used.setdefault(ref["name"], set()).add(ref["key"])
        for volume in pod_spec(workload).get("volumes", []):
            if "secret" in volume:
                used.setdefault(volume["secret"]["secretName"], set()).update(
                    item["key"] for item in volume["secret"]["items"])
    for secret, keys in used.items():
        assert keys <= templates[secret], f"{secret}: keys missing from its template: {keys - templates[secret]}"
    assert used["portal-secrets"] == templates["portal-secrets"], "the template lists keys nobody reads"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_configured_ports_are_the_ports_the_containers_expose(rendered, overlay):
    (config,) = [c for c in of_kind(rendered[overlay], "ConfigMap") if c["metadata"]["name"].startswith("portal-config")]
    data = config["data"]
    for name, port in PROCESSES.items():
        variable = "GATEWAY_PORT" if name == "gateway" else f"{name.upper()}_HTTP_PORT"
        assert data[variable] == str(port)
    assert data["GATEWAY_HOST"] == data["SERVICE_HTTP_HOST"] == "0.0.0.0"


def test_prod_runs_several_replicas_of_released_images_without_demo_content(rendered):
    objects = rendered["prod"]
    for hpa in of_kind(objects, "HorizontalPodAutoscaler"):
        assert hpa["spec"]["minReplicas"] >= 3, hpa["metadata"]["name"]
    for workload in portal_workloads(objects):
        for container in containers(workload):
            assert re.search(r":\d+\.\d+\.\d+$", container["image"]), container["image"]
    (config,) = of_kind(objects, "ConfigMap")
    assert config["data"]["DEMO_DATA"] == "0"
    (ingress,) = of_kind(objects, "Ingress")
    assert ingress["spec"]["tls"] == [{"secretName": "portal-tls"}]


def test_dev_loads_the_demo_content_once_from_a_job(rendered):
    objects = rendered["dev"]
    (config,) = of_kind(objects, "ConfigMap")
    assert config["data"]["DEMO_DATA"] == "1"
    job = named(objects, "Job", "portal-bootstrap")
    container = pod_spec(job)["containers"][0]
    assert container["command"] == ["portal-admin", "bootstrap"]
    assert container["image"].startswith("union-portal/gateway:")
    assert pod_spec(job)["restartPolicy"] == "Never"
    env = {e["name"]: e for e in container["env"]}
    assert env["ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"].get("optional") is not True
