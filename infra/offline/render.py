"""Turn recorded registrations into what ``make plan`` writes: plain data, real manifests, no secrets.

Recorded inputs are in wire format: camelCase already, but every number is a float (protobuf Struct) and
a secret arrives as an envelope around the value. Rendering turns integral floats back into integers and
replaces every value inside an envelope with :data:`~infra.offline.mocks.REDACTED`, keeping the keys of a secret
map so a Secret manifest still has its shape.
"""

from __future__ import annotations

from typing import Any

from infra.offline.mocks import REDACTED, Registered

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
KIND_ORDER = (
    "Namespace",
    "ConfigMap",
    "Secret",
    "Service",
    "NetworkPolicy",
    "DaemonSet",
    "StatefulSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "BackendConfig",
    "FrontendConfig",
    "ManagedCertificate",
    "Ingress",
)


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def redact(value: Any) -> Any:
    """Every leaf replaced by the redaction marker; maps and lists keep their shape."""
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return REDACTED


def plain(value: Any) -> Any:
    """Wire-format inputs as plain data: envelopes redacted, integral floats as ints, no nulls, sorted keys."""
    if _is_secret(value):
        return redact(plain(value.get("value")))
    if isinstance(value, dict):
        return {key: plain(value[key]) for key in sorted(value) if value[key] is not None}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def resource_record(resource: Registered) -> dict[str, Any]:
    """One entry of ``resources.json``."""
    return {
        "type": resource.type,
        "name": resource.name,
        "urn": resource.urn,
        "custom": resource.custom,
        "inputs": plain(resource.inputs),
    }


def manifest(resource: Registered) -> dict[str, Any]:
    """A Kubernetes object as ``kubectl apply`` would take it, from a ``kubernetes:<group>/<version>:<Kind>``."""
    body = plain(resource.inputs)
    _, api, kind = resource.type.split(":")
    group, version = api.rsplit("/", 1)
    api_version = version if group == "core" else f"{group}/{version}"
    metadata = dict(body.pop("metadata", {}) or {})
    metadata.setdefault("name", resource.name)
    body.pop("apiVersion", None)
    body.pop("kind", None)
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **body}


def _order(document: dict[str, Any]) -> tuple[int, str, str]:
    kind = str(document["kind"])
    rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    metadata = document["metadata"]
    return rank, str(metadata.get("namespace", "")), str(metadata["name"])


def manifests(resources: list[Registered]) -> list[dict[str, Any]]:
    """Every Kubernetes object of a run, in apply order (namespaces first), stably sorted."""
    found = [manifest(r) for r in resources if r.type.startswith("kubernetes:") and r.custom]
    return sorted(found, key=_order)
