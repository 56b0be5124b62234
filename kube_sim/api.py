"""The HTTP side of the double: the paths a real API server serves for StatefulSets, their scale and Leases.

Every request needs the bearer token the double's kubeconfig carries (else 401, as an API server
answers an unauthenticated client); every request is recorded, so tests can see what a client asked
(one scale write per wake, no watches). Unknown paths answer 404 with a v1 Status.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kube_sim.objects import ApiProblem, JsonObject, Leases, StatefulSetState, merge_patch

STATEFULSET = "/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
PATCH_TYPES = frozenset(
    {"application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"}
)


@dataclass(frozen=True, slots=True)
class Seen:
    """One request the double answered."""

    method: str
    path: str
    query: str
    status: int


@dataclass(slots=True)
class ApiState:
    """Everything the API serves, and what it was asked."""

    token: str
    statefulsets: dict[tuple[str, str], StatefulSetState] = field(default_factory=dict)
    leases: Leases = field(default_factory=Leases)
    seen: list[Seen] = field(default_factory=list)
    scaled: list[tuple[str, str, int]] = field(default_factory=list)
    """Every accepted scale write: namespace, StatefulSet, replicas."""

    def statefulset(self, namespace: str, name: str) -> StatefulSetState:
        """The StatefulSet, or 404."""
        found = self.statefulsets.get((namespace, name))
        if found is None:
            raise ApiProblem(404, "NotFound", f'statefulsets.apps "{name}" not found')
        return found

    def scale_writes(self) -> list[Seen]:
        """Every PATCH or PUT of a scale subresource, in order."""
        return [s for s in self.seen if s.path.endswith("/scale") and s.method in {"PATCH", "PUT"}]


Handler = Callable[[Request, ApiState], Awaitable[JsonObject]]


async def _body(request: Request) -> JsonObject:
    if request.method == "PATCH" and request.headers.get("content-type", "").split(";")[0] not in PATCH_TYPES:
        raise ApiProblem(415, "UnsupportedMediaType", "the double accepts merge and strategic merge patches")
    try:
        decoded = json.loads(await request.body())
    except ValueError as error:
        raise ApiProblem(400, "BadRequest", f"the body is not JSON: {error}") from None
    if not isinstance(decoded, dict):
        raise ApiProblem(400, "BadRequest", "the body must be a JSON object")
    return decoded


def _where(request: Request) -> tuple[str, str]:
    return str(request.path_params["namespace"]), str(request.path_params.get("name", ""))


async def _statefulset(request: Request, state: ApiState) -> JsonObject:
    return state.statefulset(*_where(request)).body()


async def _scale(request: Request, state: ApiState) -> JsonObject:
    target = state.statefulset(*_where(request))
    if request.method == "GET":
        return target.scale_body()
    body = await _body(request)
    if request.method == "PATCH":
        body = merge_patch(target.scale_body(), body)
    sent = body.get("metadata", {}).get("resourceVersion")
    if request.method == "PUT" and sent is not None and sent != target.resource_version:
        raise ApiProblem(409, "Conflict", f'Operation cannot be fulfilled on statefulsets.apps "{target.name}"')
    replicas = body.get("spec", {}).get("replicas")
    if not isinstance(replicas, int):
        raise ApiProblem(422, "Invalid", "spec.replicas: Required value")
    await target.scale(replicas)
    state.scaled.append((target.namespace, target.name, replicas))
    return target.scale_body()


async def _leases(request: Request, state: ApiState) -> JsonObject:
    namespace, _ = _where(request)
    return state.leases.create(namespace, await _body(request))


async def _lease(request: Request, state: ApiState) -> JsonObject:
    namespace, name = _where(request)
    if request.method == "GET":
        return state.leases.get(namespace, name)
    if request.method == "PUT":
        return state.leases.replace(namespace, name, await _body(request))
    return state.leases.patch(namespace, name, await _body(request))


def _endpoint(handler: Handler, state: ApiState) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            if request.headers.get("authorization") != f"Bearer {state.token}":
                raise ApiProblem(401, "Unauthorized", "Unauthorized")
            if request.query_params.get("watch") in {"true", "1"}:
                raise ApiProblem(405, "MethodNotAllowed", "the double serves no watches")
            answer: Any = await handler(request, state)
            status = 201 if request.method == "POST" else 200
        except ApiProblem as problem:
            answer, status = problem.status(), problem.code
        state.seen.append(Seen(request.method, request.url.path, request.url.query, status))
        return JSONResponse(answer, status_code=status)

    return endpoint


def api_app(state: ApiState) -> Starlette:
    """The Starlette app serving ``state``."""
    routes = [
        Route(STATEFULSET, _endpoint(_statefulset, state), methods=["GET"]),
        Route(f"{STATEFULSET}/status", _endpoint(_statefulset, state), methods=["GET"]),
        Route(f"{STATEFULSET}/scale", _endpoint(_scale, state), methods=["GET", "PATCH", "PUT"]),
        Route(LEASES, _endpoint(_leases, state), methods=["POST"]),
        Route(f"{LEASES}/{{name}}", _endpoint(_lease, state), methods=["GET", "PUT", "PATCH"]),
    ]

    async def not_found(request: Request, _: Exception) -> Response:
        problem = ApiProblem(404, "NotFound", f"the server could not find the requested resource ({request.url.path})")
        return JSONResponse(problem.status(), status_code=404)

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
