"""The processes under test: two simulated Ollamas, nginx (when installed) and the router.

One sim answers unpaced (streams as fast as the socket takes them), the other at the paced token rate;
both hold the same models, so their ``/api/tags`` bytes are identical. The router's model map routes
:data:`FAST_MODEL` to the unpaced sim and :data:`PACED_MODEL` to the paced one; nginx gets one port per
sim. Each target is therefore asked the same requests and must answer the same bytes. The router runs
with its defaults (``FLEET_*`` variables of the calling shell are not passed on), so every resilience
feature (health, circuit breakers, timeouts, the access log, metrics) is on while it is measured.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from bench.nginx import start_nginx
from bench.procs import Child, Pinning, StartError, free_port, python_child, wait_http_ok

FAST_MODEL = "llama3.2:3b"
PACED_MODEL = "qwen2.5:7b"
MODELS = f"{FAST_MODEL},{PACED_MODEL}"


@dataclass(frozen=True, slots=True)
class Target:
    """Where the load goes: direct to the sims, or through a proxy (``pid`` is the proxy's process)."""

    name: str
    fast_port: int
    paced_port: int
    pid: int | None = None


@dataclass(slots=True)
class Stack:
    """Every started process, the targets that came up, and why any did not."""

    pinning: Pinning
    workdir: Path
    children: list[Child] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        """Stop everything, proxies first."""
        for child in reversed(self.children):
            child.stop()


def start_sim(stack: Stack, name: str, tokens: int, token_rate: float) -> int:
    """Start one sim on the load CPU; its port."""
    port = free_port()
    args = ["ollama_sim", "--name", name, "--host", "127.0.0.1", "--port", str(port), "--models", MODELS]
    args += ["--token-rate", f"{token_rate:g}", "--tokens", str(tokens), "--no-record"]
    child = python_child(f"sim {name}", args, stack.pinning.load_cpu, stack.pinning, stack.workdir / f"sim-{name}.log")
    stack.children.append(child)
    wait_http_ok(child, port, "/api/version", timeout=20.0)
    return port


def model_map(fast_port: int, paced_port: int) -> dict[str, object]:
    """The router's model map: one backend per sim, one route per model."""
    return {
        "backends": [
            {"name": "fast", "url": f"http://127.0.0.1:{fast_port}"},
            {"name": "paced", "url": f"http://127.0.0.1:{paced_port}"},
        ],
        "routes": [
            {"model": FAST_MODEL, "backends": ["fast"]},
            {"model": PACED_MODEL, "backends": ["paced"]},
        ],
    }


def start_router(stack: Stack, fast_port: int, paced_port: int) -> Target:
    """``python -m router`` on the proxy CPU, answering ``/readyz``."""
    map_file = stack.workdir / "model-map.json"
    map_file.write_text(json.dumps(model_map(fast_port, paced_port), indent=2))
    port = free_port()
    args = ["router", "--model-map", str(map_file), "--host", "127.0.0.1", "--port", str(port)]
    log = stack.workdir / "router.log"
    child = python_child("router", args, stack.pinning.proxy_cpu, stack.pinning, log, drop_env="FLEET_")
    stack.children.append(child)
    wait_http_ok(child, port, "/readyz", timeout=30.0)
    return Target("router", port, port, child.pid)


def start_stack(stack: Stack, *, tokens: int, token_rate: float, nginx: str | None, router: bool) -> None:
    """Start the sims (a failure here is fatal), then each proxy (a failure is recorded in ``failed``)."""
    fast = start_sim(stack, "fast", tokens, 0.0)
    paced = start_sim(stack, "paced", tokens, token_rate)
    stack.targets.append(Target("direct", fast, paced))
    if nginx is not None:
        routes = [(free_port(), fast), (free_port(), paced)]
        try:
            child = start_nginx(nginx, stack.workdir / "nginx", routes, stack.pinning, "/api/version")
        except StartError as error:
            stack.failed["nginx"] = str(error)
        else:
            stack.children.append(child)
            stack.targets.append(Target("nginx", routes[0][0], routes[1][0], child.pid))
    if router:
        try:
            stack.targets.append(start_router(stack, fast, paced))
        except StartError as error:
            stack.failed["router"] = str(error)
