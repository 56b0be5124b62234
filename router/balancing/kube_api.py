"""The router's narrow use of the Kubernetes API: a StatefulSet's scale and status, and activity Leases.

Only for backends whose model-map entry has ``scale``. The client (lightkube) is made on first use: in a
pod from the ServiceAccount's token (the stack mounts it only when some pool scales to zero), elsewhere
from a standard kubeconfig (``KUBECONFIG``, else ``~/.kube/config``), so the router runs against any API
server. Every call is a plain GET, PATCH or PUT bounded by an explicit timeout; nothing watches. Every
failure becomes :class:`KubeApiError` with a message that says what was asked and what went wrong.
"""

from __future__ import annotations

import datetime

import httpx2
from lightkube import ApiError, AsyncClient, ConfigError, KubeConfig
from lightkube.resources.apps_v1 import StatefulSet
from lightkube.resources.coordination_v1 import Lease
from lightkube.types import PatchType

from config.scaling import BackendScale
from router.balancing.kube_facts import Activity, KubeApiError, Observation

CONFLICT = 409


def _activity(lease: Lease) -> Activity:
    spec = lease.spec
    renewed = spec.renewTime if spec is not None else None
    return Activity(renewed.timestamp() if renewed is not None else None, spec.holderIdentity if spec else None)


class KubeApi:
    """One lightkube client, owned here and closed by :meth:`aclose`."""

    def __init__(self, timeout: float, identity: str) -> None:
        self.timeout = timeout
        self.identity = identity
        self._client: AsyncClient | None = None

    def _api(self) -> AsyncClient:
        if self._client is None:
            try:
                config = KubeConfig.from_env()
            except (ConfigError, OSError) as error:
                raise KubeApiError(f"no Kubernetes API configuration (in-cluster or KUBECONFIG): {error}") from None
            self._client = AsyncClient(config, timeout=httpx2.Timeout(self.timeout), lazy=False)
        return self._client

    async def observe(self, scale: BackendScale) -> Observation:
        """The StatefulSet's wanted, created and ready replicas."""
        what = f"read StatefulSet {scale.namespace}/{scale.statefulset}"
        try:
            found = await self._api().get(StatefulSet, scale.statefulset, namespace=scale.namespace)
        except (ApiError, httpx2.HTTPError) as error:
            raise _failed(what, error) from None
        wanted = found.spec.replicas if found.spec is not None and found.spec.replicas is not None else 1
        status = found.status
        if status is None:
            return Observation(wanted, 0, 0)
        return Observation(wanted, status.replicas or 0, status.readyReplicas or 0)

    async def scale(self, scale: BackendScale, replicas: int) -> None:
        """Set the StatefulSet's replicas through its ``scale`` subresource."""
        what = f"scale StatefulSet {scale.namespace}/{scale.statefulset} to {replicas}"
        try:
            await self._api().patch(
                StatefulSet.Scale,
                scale.statefulset,
                {"spec": {"replicas": replicas}},
                namespace=scale.namespace,
                patch_type=PatchType.MERGE,
            )
        except (ApiError, httpx2.HTTPError) as error:
            raise _failed(what, error) from None

    async def activity(self, namespace: str, lease: str) -> Activity:
        """The pool's last activity, as the routers recorded it."""
        try:
            return _activity(await self._api().get(Lease, lease, namespace=namespace))
        except (ApiError, httpx2.HTTPError) as error:
            raise _failed(f"read Lease {namespace}/{lease}", error) from None

    async def renew(self, namespace: str, lease: str, at: float, duration_s: int) -> Activity:
        """Record activity at ``at`` (epoch seconds); a concurrent renewal (409) is read again and retried once."""
        what = f"renew Lease {namespace}/{lease}"
        for attempt in range(2):
            try:
                current = await self._api().get(Lease, lease, namespace=namespace)
                seen = _activity(current)
                if seen.renewed_at is not None and seen.renewed_at >= at:
                    return seen
                assert current.spec is not None  # lightkube decodes an absent spec as an empty LeaseSpec
                current.spec.renewTime = datetime.datetime.fromtimestamp(at, datetime.UTC)
                current.spec.holderIdentity = self.identity
                current.spec.leaseDurationSeconds = duration_s
                return _activity(await self._api().replace(current))
            except ApiError as error:
                if error.status.code != CONFLICT or attempt:
                    raise _failed(what, error) from None
            except httpx2.HTTPError as error:
                raise _failed(what, error) from None
        raise KubeApiError(f"{what}: kept conflicting")

    async def aclose(self) -> None:
        """Close the client's connections."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def _failed(what: str, error: Exception) -> KubeApiError:
    if isinstance(error, ApiError):
        status = error.status
        return KubeApiError(f"could not {what}: the API answered {status.code} {status.reason}: {status.message}")
    detail = str(error) or type(error).__name__
    return KubeApiError(f"could not {what}: the Kubernetes API is unreachable ({detail})")
