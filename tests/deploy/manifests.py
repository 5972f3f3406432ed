"""Small readers over rendered Kubernetes objects and the repository's deployment files."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PART_OF = ("app.kubernetes.io/part-of", "union-portal")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job")
BACKENDS = ("rabbitmq", "mongodb", "elasticsearch")


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: list[dict], kind: str, name: str) -> dict:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def workloads(objects: list[dict]) -> list[dict]:
    return [o for o in objects if o["kind"] in WORKLOAD_KINDS]


def portal_workloads(objects: list[dict]) -> list[dict]:
    """The portal's own processes (not the dev backends)."""
    key, value = PART_OF
    return [o for o in workloads(objects) if pod_labels(o).get(key) == value]


def pod_template(workload: dict) -> dict:
    return workload["spec"]["template"]


def pod_spec(workload: dict) -> dict:
    return pod_template(workload)["spec"]


def pod_labels(workload: dict) -> dict:
    return pod_template(workload)["metadata"].get("labels", {})


def containers(workload: dict) -> list[dict]:
    spec = pod_spec(workload)
    return spec.get("initContainers", []) + spec["containers"]


def selects(selector: dict, labels: dict) -> bool:
    """A label selector (matchLabels / matchExpressions, or a bare map for Services) on labels."""
    if not selector:
        return True
    match_labels = selector.get("matchLabels", {} if "matchExpressions" in selector else selector)
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expr in selector.get("matchExpressions", []):
        present, value = expr["key"] in labels, labels.get(expr["key"])
        op = expr["operator"]
        if (op == "In" and value not in expr["values"]) or (op == "NotIn" and value in expr["values"]) \
                or (op == "Exists" and not present) or (op == "DoesNotExist" and present):
            return False
    return True


def env_names(container: dict, configmaps: dict[str, dict]) -> set[str]:
    """Variables a container gets: its env, and every key of the ConfigMaps it takes whole."""
    names = {e["name"] for e in container.get("env", [])}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            names |= set(configmaps[source["configMapRef"]["name"]]["data"])
    return names


def configmaps_by_base_name(objects: list[dict]) -> dict[str, dict]:
    """ConfigMaps by the name the manifests use (kustomize renames them name-<hash> and the refs)."""
    return {o["metadata"]["name"]: o for o in of_kind(objects, "ConfigMap")}


def read_env_file(path: Path) -> tuple[dict[str, str], set[str]]:
    """KEY=value lines of a dotenv file, and the keys only shown commented out (``# KEY=``)."""
    values, commented = {}, set()
    for line in path.read_text().splitlines():
        line = line.strip()
        match = re.match(r"^([A-Z_][A-Z0-9_]*)=(.*)$", line)
        if match:
            values[match.group(1)] = match.group(2)
            continue
        match = re.match(r"^#\s*([A-Z_][A-Z0-9_]*)=\s*$", line)
        if match:
            commented.add(match.group(1))
    return values, commented


def duration_s(text: str) -> float:
    """A compose duration ("330s", "1m30s") in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
    assert parts and "".join(n + u for n, u in parts) == text, f"not a duration: {text!r}"
    return sum(float(n) * units[u] for n, u in parts)
