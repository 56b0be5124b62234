"""The API objects the double keeps: StatefulSets (spec, scale, status) and Leases, with resourceVersions.

Each StatefulSet drives a :class:`Workload`: scaled up from zero, it "creates its pods" at once
(``status.replicas``) and becomes ready (``status.readyReplicas``) once the workload has started, after
a configurable delay that stands for a GPU node, its driver and a model load; scaled to zero, the workload
stops at once. Bodies follow the Kubernetes API's JSON (apps/v1 StatefulSet, autoscaling/v1 Scale,
coordination.k8s.io/v1 Lease, v1 Status for errors).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field
from typing import Any, Protocol

JsonObject = dict[str, Any]


class Workload(Protocol):
    """What a StatefulSet's pods stand for: started when it scales up from zero, stopped at zero."""

    async def start(self) -> None:
        """Begin serving (the pods are ready once this returns)."""

    async def stop(self) -> None:
        """Stop serving and drop every connection."""


class ApiProblem(Exception):
    """An error the API server answers with a v1 Status body."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def status(self) -> JsonObject:
        """The v1 Status body."""
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }


_VERSIONS = itertools.count(1000)


def next_version() -> str:
    """A fresh resourceVersion (opaque to clients, increasing here)."""
    return str(next(_VERSIONS))


@dataclass(slots=True)
class StatefulSetState:
    """One StatefulSet: what it wants, what exists, and the workload its pods stand for."""

    namespace: str
    name: str
    replicas: int
    workload: Workload | None = None
    wake_delay_s: float | None = 0.0
    """Seconds from a scale-up to ready pods; None means the pods never become ready."""
    created: int = 0
    ready: int = 0
    generation: int = 1
    resource_version: str = field(default_factory=next_version)
    _waking: asyncio.Task[None] | None = None

    async def scale(self, replicas: int) -> None:
        """Set ``spec.replicas`` and move the pods toward it the way the controller would."""
        if replicas < 0:
            raise ApiProblem(422, "Invalid", f"spec.replicas: Invalid value: {replicas}: must be >= 0")
        was, self.replicas = self.replicas, replicas
        if replicas != was:
            self.generation += 1
        self.resource_version = next_version()
        if replicas == 0:
            await self._sleep()
        elif self.created == 0:
            self.created = replicas
            self._waking = asyncio.ensure_future(self._wake(replicas))
        else:
            self.created = replicas
            self.ready = replicas if self.ready else 0

    async def ready_now(self, replicas: int) -> None:
        """Be up and ready already (a pool that was awake before any router came)."""
        self.replicas = self.created = replicas
        if replicas and self.workload is not None:
            await self.workload.start()
        self.ready = replicas

    async def _wake(self, replicas: int) -> None:
        if self.wake_delay_s is None:
            return
        await asyncio.sleep(self.wake_delay_s)
        if self.workload is not None:
            await self.workload.start()
        self.ready = replicas
        self.resource_version = next_version()

    async def _sleep(self) -> None:
        waking, self._waking = self._waking, None
        if waking is not None:
            waking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waking
        if self.workload is not None and self.created:
            await self.workload.stop()
        self.created = self.ready = 0

    async def close(self) -> None:
        """Stop the workload (the double shuts down)."""
        await self._sleep()

    def metadata(self) -> JsonObject:
        """ObjectMeta of the StatefulSet and its subresources."""
        return {
            "name": self.name,
            "namespace": self.namespace,
            "resourceVersion": self.resource_version,
            "generation": self.generation,
            "uid": f"uid-{self.namespace}-{self.name}",
        }

    def status(self) -> JsonObject:
        """apps/v1 StatefulSetStatus."""
        return {
            "observedGeneration": self.generation,
            "replicas": self.created,
            "readyReplicas": self.ready,
            "availableReplicas": self.ready,
            "currentReplicas": self.created,
            "updatedReplicas": self.created,
        }

    def body(self) -> JsonObject:
        """The whole apps/v1 StatefulSet."""
        labels = {"app.kubernetes.io/name": self.name}
        return {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": self.metadata(),
            "spec": {
                "replicas": self.replicas,
                "serviceName": f"{self.name}-headless",
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "ollama", "image": "ollama/ollama"}]},
                },
            },
            "status": self.status(),
        }

    def scale_body(self) -> JsonObject:
        """The autoscaling/v1 Scale subresource."""
        return {
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": self.metadata(),
            "spec": {"replicas": self.replicas},
            "status": {"replicas": self.created, "selector": f"app.kubernetes.io/name={self.name}"},
        }


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (what ``application/merge-patch+json`` means)."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


class Leases:
    """coordination.k8s.io/v1 Leases by namespace and name, with optimistic concurrency."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], JsonObject] = {}

    def get(self, namespace: str, name: str) -> JsonObject:
        """The Lease, or 404."""
        found = self._items.get((namespace, name))
        if found is None:
            raise ApiProblem(404, "NotFound", f'leases.coordination.k8s.io "{name}" not found')
        return found

    def create(self, namespace: str, body: JsonObject) -> JsonObject:
        """POST: a new Lease, or 409 AlreadyExists."""
        name = str(body.get("metadata", {}).get("name", ""))
        if not name:
            raise ApiProblem(422, "Invalid", "metadata.name: Required value")
        if (namespace, name) in self._items:
            raise ApiProblem(409, "AlreadyExists", f'leases.coordination.k8s.io "{name}" already exists')
        return self._store(namespace, name, body)

    def replace(self, namespace: str, name: str, body: JsonObject) -> JsonObject:
        """PUT: replace it; a stale ``metadata.resourceVersion`` is 409 Conflict, as on a real API server."""
        current = self.get(namespace, name)
        sent = body.get("metadata", {}).get("resourceVersion")
        if sent is not None and sent != current["metadata"]["resourceVersion"]:
            raise ApiProblem(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on leases.coordination.k8s.io "{name}": the object has been '
                "modified; please apply your changes to the latest version and try again",
            )
        return self._store(namespace, name, body)

    def patch(self, namespace: str, name: str, patch: JsonObject) -> JsonObject:
        """PATCH (merge): change what the patch names, keep the rest."""
        return self.replace(namespace, name, merge_patch(self.get(namespace, name), patch))

    def _store(self, namespace: str, name: str, body: JsonObject) -> JsonObject:
        stored: JsonObject = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                **body.get("metadata", {}),
                "name": name,
                "namespace": namespace,
                "resourceVersion": next_version(),
            },
            "spec": dict(body.get("spec") or {}),
        }
        self._items[(namespace, name)] = stored
        return stored
