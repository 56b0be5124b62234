"""Run the real program under Pulumi's mocks and record everything it registers, with no engine at all.

``make plan`` and the tests share this harness. The mocks answer like the providers would for the few
outputs the program reads back (a cluster's endpoint, an image's digest, a service account's email,
a load balancer's or a reserved address); everything else echoes the inputs. A fresh root stack is
created for every run, so one process can run several stacks.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor

from config.loading import PROJECT, read_stack_file
from infra.gcp.gke_versions import ENGINE_VERSIONS_TOKEN, RECORDED_SERVER_CONFIG

REDACTED = "<redacted>"
"""What a secret value becomes in anything the harness writes; also stands in for encrypted stack values."""
MOCK_DIGEST = "sha256:" + "0" * 64
MOCK_ENDPOINT = "203.0.113.10"
MOCK_LB_ADDRESS = "198.51.100.7"
MOCK_NODE_PORT = 30434
MOCK_ROUTER_ADDRESS = "203.0.113.80"
MOCK_GENERATED_KEY = "mock-generated-router-key-0123456789abcd"


@dataclass(slots=True)
class Registered:
    """One registered resource: its type token, logical name, wire-format inputs and place in the tree."""

    type: str
    name: str
    inputs: dict[str, Any]
    custom: bool
    urn: str = ""
    parent: str = ""
    provider: str = ""
    dependencies: tuple[str, ...] = ()
    """URNs of the resources it explicitly waits for (``depends_on``, its own and inherited ones)."""
    ignore_changes: list[str] = field(default_factory=list)
    """Input paths ``pulumi up`` leaves to someone else (the ``ignore_changes`` resource option)."""


@dataclass(slots=True)
class Run:
    """Everything one program run registered, and its resolved stack outputs."""

    resources: list[Registered] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)

    def of_type(self, token: str) -> list[Registered]:
        """The resources of one type token, in registration order."""
        return [r for r in self.resources if r.type == token]

    def kubernetes(self) -> list[Registered]:
        """Every Kubernetes object (not the provider)."""
        return [r for r in self.resources if r.type.startswith("kubernetes:") and r.custom]


def _outputs(typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Provider-computed outputs the program reads; the rest of the state is the inputs.

    Kubernetes objects get a stable ``metadata.uid``, as the API server assigns one to every object.
    """
    out = dict(inputs)
    if typ == "gcp:container/cluster:Cluster":
        out |= {"endpoint": MOCK_ENDPOINT, "masterAuth": {"clusterCaCertificate": "bW9jay1jYQ=="}}
    elif typ == "gcp:serviceaccount/account:Account":
        email = f"{inputs.get('accountId')}@{inputs.get('project')}.iam.gserviceaccount.com"
        out |= {"email": email, "member": f"serviceAccount:{email}"}
    elif typ == "gcp:artifactregistry/repository:Repository":
        location, project, repo = inputs.get("location"), inputs.get("project"), inputs.get("repositoryId")
        out["registryUri"] = f"{location}-docker.pkg.dev/{project}/{repo}"
    elif typ == "docker-build:index:Image":
        out |= {"digest": MOCK_DIGEST, "ref": f"mock@{MOCK_DIGEST}"}
    elif typ == "gcp:compute/globalAddress:GlobalAddress":
        out["address"] = MOCK_ROUTER_ADDRESS
    elif typ == "random:index/randomPassword:RandomPassword":
        out["result"] = MOCK_GENERATED_KEY
    elif typ == "kubernetes:core/v1:Service":
        out |= _service_status(inputs)
    if typ.startswith("kubernetes:") and isinstance(inputs.get("metadata"), dict):
        out["metadata"] = {**inputs["metadata"], "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{typ}/{name}"))}
    return out


def _service_status(inputs: dict[str, Any]) -> dict[str, Any]:
    spec = dict(inputs.get("spec") or {})
    if spec.get("type") == "LoadBalancer":
        return {"status": {"loadBalancer": {"ingress": [{"ip": MOCK_LB_ADDRESS}]}}}
    if spec.get("type") == "NodePort":
        ports = [dict(port, nodePort=MOCK_NODE_PORT + i) for i, port in enumerate(spec.get("ports") or [])]
        return {"spec": dict(spec, ports=ports)}
    return {}


class FleetMocks(pulumi.runtime.Mocks):
    """Records every registration; answers the invokes the program makes."""

    def __init__(self) -> None:
        self.run = Run()
        self.lock = threading.Lock()
        self.context = threading.local()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """Record the registration and return the mocked provider state."""
        with self.lock:
            self.run.resources.append(
                Registered(
                    type=args.typ,
                    name=args.name,
                    inputs=dict(args.inputs),
                    custom=bool(args.custom),
                    urn=getattr(self.context, "urn", ""),
                    parent=getattr(self.context, "parent", ""),
                    provider=args.provider or "",
                    dependencies=tuple(getattr(self.context, "dependencies", ())),
                    ignore_changes=list(getattr(self.context, "ignore_changes", [])),
                )
            )
        return f"{args.name}-id", _outputs(args.typ, args.name, dict(args.inputs))

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Answer the invokes the program makes: the GCP client config, and GKE's versions (a recorded answer)."""
        with self.lock:
            self.run.calls.append(args.token)
        if args.token == "gcp:organizations/getClientConfig:getClientConfig":
            return {"accessToken": "mock-access-token", "project": "mock", "region": "mock", "id": "mock"}, []
        if args.token == ENGINE_VERSIONS_TOKEN:
            location = dict(args.args).get("location", "")
            return {**RECORDED_SERVER_CONFIG, "location": location, "id": f"mock-{location}"}, []
        return {}, []


class RecordingMonitor(MockMonitor):
    """A mock monitor that tells the mocks each registration's URN and parent (``MockResourceArgs`` lacks them).

    ``pulumi.runtime.set_mocks`` takes a ``MockMonitor`` for exactly this; the tree of parents and the
    ``depends_on`` edges are what the tests check and ``resources.json`` records.
    """

    def __init__(self, mocks: FleetMocks) -> None:
        super().__init__(mocks)
        self.fleet_mocks = mocks

    def RegisterResource(self, request: Any) -> Any:
        """Stash URN and parent for the mocks, then register as usual."""
        context = self.fleet_mocks.context
        context.urn = self.make_urn(request.parent, request.type, request.name)
        context.parent = request.parent
        context.dependencies = list(request.dependencies)
        context.ignore_changes = list(request.ignoreChanges)
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]  # the SDK's monitor is untyped


async def _resolve_outputs(run: Run) -> None:
    # No call of Pulumi's testing API returns the stack's outputs; the root Stack resource keeps what
    # pulumi.export gave it in its public ``outputs`` map.
    root = pulumi.runtime.get_root_resource()
    exported: dict[str, Any] = dict(getattr(root, "outputs", {}) or {})
    for name, value in exported.items():
        output = pulumi.Output.from_input(value)
        resolved = await output.future()
        if resolved is None:
            continue  # the engine drops an output that resolves to nothing, as if it were never exported
        run.outputs[name] = resolved
        if await output.is_secret():
            run.secret_outputs.add(name)


def run_program(
    program: Callable[[], Any],
    config: Mapping[str, str],
    *,
    stack: str,
    secret_keys: Iterable[str] = (),
    project: str = PROJECT,
) -> Run:
    """Run ``program`` under the mocks with ``config`` (full keys → engine strings) and return what it did."""
    mocks = FleetMocks()
    asyncio.set_event_loop(_harness_loop())
    _run_on(program, mocks, config, stack=stack, secret_keys=secret_keys, project=project)
    return mocks.run


_LOOPS: list[asyncio.AbstractEventLoop] = []


def _harness_loop() -> asyncio.AbstractEventLoop:
    """One event loop for every run in this process, kept open.

    The SDK asks for the thread's current loop, which ``asyncio.run()`` elsewhere in the process may have
    unset; and the mock monitor gives each of the loop's worker threads a loop of its own, which would
    be collected unclosed if this loop (and with it those threads) were closed after a run.
    """
    if not _LOOPS or _LOOPS[0].is_closed():
        _LOOPS[:] = [asyncio.new_event_loop()]
    return _LOOPS[0]


def _run_on(
    program: Callable[[], Any],
    mocks: FleetMocks,
    config: Mapping[str, str],
    *,
    stack: str,
    secret_keys: Iterable[str],
    project: str,
) -> None:
    pulumi.runtime.reset_options(project=project, stack=stack)  # a fresh root stack: set_mocks keeps an old one
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=RecordingMonitor(mocks))
    pulumi.runtime.set_all_config(dict(config), list(secret_keys))

    @pulumi.runtime.test  # type: ignore[untyped-decorator]  # the SDK's decorator is untyped
    def _run() -> Any:
        program()
        return _resolve_outputs(mocks.run)

    _run()


def _engine_value(value: Any) -> tuple[str, bool]:
    """A stack-file value as the engine passes it: strings as is, the rest as JSON; encrypted parts redacted."""
    secret = False

    def decrypt(node: Any) -> Any:
        nonlocal secret
        if isinstance(node, dict):
            if set(node) == {"secure"}:
                secret = True
                return REDACTED
            return {key: decrypt(item) for key, item in node.items()}
        if isinstance(node, list):
            return [decrypt(item) for item in node]
        return node

    plain = decrypt(value)
    return (plain if isinstance(plain, str) else json.dumps(plain)), secret


def stack_file_config(path: str | Path) -> tuple[dict[str, str], list[str]]:
    """``Pulumi.<stack>.yaml``'s config as the engine would hand it to the program, and its secret keys.

    Bare keys get the project prefix, as the engine does. Encrypted values cannot be decrypted offline,
    so they become :data:`REDACTED`, and their top-level key is marked secret as the engine marks it.
    """
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in read_stack_file(path).items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        config[full], secret = _engine_value(value)
        if secret:
            secret_keys.append(full)
    return config, secret_keys
