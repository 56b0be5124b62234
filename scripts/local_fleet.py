"""A stack's fleet on this machine, without a GPU: one simulated Ollama per pool and the real router.

Shared by ``make demo`` (which talks to the fleet and exits) and ``make demo-serve`` (which keeps it up for
you to try). The simulators are named like the pools and pull the pools' models; the router reads the model
map the stack would deploy, pointed at the simulators instead of in-cluster Services. Everything listens on
127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from config.derive import derive_model_map
from config.errors import ConfigError
from config.loading import load_stack_file
from config.model_map import Backend, ModelMap
from config.scaling import activity_lease
from config.stack import StackConfig
from kube_sim import RunningKubeSim
from ollama_sim import SimConfig, running_sim

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"
STARTUP_SECONDS = 20.0
STOP_SECONDS = 15.0


class FleetStartError(SystemExit):
    """The local fleet cannot start; the message says why and what to do (printed; exit status 1)."""


@dataclass(frozen=True)
class LocalStack:
    """A validated stack and the model map it would deploy."""

    path: Path
    config: StackConfig
    model_map: ModelMap


def load_stack(name: str) -> LocalStack:
    """``Pulumi.<name>.yaml`` validated, or a :class:`FleetStartError` naming the stacks there are."""
    path = ROOT / f"Pulumi.{name}.yaml"
    if not path.is_file():
        stacks = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in ROOT.glob("Pulumi.*.yaml"))
        raise FleetStartError(f"no stack {name!r}: {path.name} does not exist; stacks here: {', '.join(stacks)}")
    try:
        config = load_stack_file(path)
    except ConfigError as error:
        raise FleetStartError(f"the stack cannot be simulated until it is valid:\n{error}") from None
    return LocalStack(path, config, derive_model_map(config))


def port_to_use(preferred: int) -> int:
    """``preferred`` if nothing listens on it on 127.0.0.1, else a free port (0 asks for any)."""
    with socket.socket() as sock:
        try:
            sock.bind((LOOPBACK, preferred))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def pool_line(stack: LocalStack, pool_name: str, url: str) -> str:
    """One pool as the demos show it: name, GPU, the simulator standing in for it, its models."""
    pool = next(p for p in stack.config.pools if p.name == pool_name)
    return f"  {pool.name:<8} {pool.gpu or 'CPU only':<20} {url}  {', '.join(pool.ollama.models) or '(no models)'}"


@contextlib.contextmanager
def running_sims(
    stack: LocalStack,
    *,
    token_rate: float,
    tokens: int,
    first_port: int = 0,
    kube: RunningKubeSim | None = None,
    wake_delay_s: float = 0.0,
) -> Iterator[dict[str, str]]:
    """One simulated Ollama per pool, for the block; yields pool name → URL.

    With ``first_port``, pool *i* listens on ``first_port + i`` when that port is free. With ``kube`` (a
    Kubernetes API double), a pool that scales to zero is a StatefulSet there, asleep at 0 replicas with
    its activity Lease, whose simulator starts ``wake_delay_s`` after something scales it up.
    """
    scales = {backend.name: backend.scale for backend in stack.model_map.backends}
    with contextlib.ExitStack() as sims:
        urls: dict[str, str] = {}
        for index, pool in enumerate(stack.config.pools):
            port = port_to_use(first_port + index) if first_port else 0
            config = SimConfig(
                name=pool.name, models=tuple(pool.ollama.models), token_rate=token_rate, tokens=tokens, port=port
            )
            scale = scales.get(pool.name)
            if kube is None or scale is None:
                urls[pool.name] = sims.enter_context(running_sim(config)).url
                continue
            urls[pool.name] = kube.add_ollama_pool(
                scale.namespace, scale.statefulset, config, wake_delay_s=wake_delay_s
            ).url
            kube.add_lease(scale.namespace, activity_lease(pool.name))
        yield urls


def pointed_at(model_map: ModelMap, urls: dict[str, str], *, scale: bool = False) -> ModelMap:
    """The stack's model map with each backend at its simulator's URL (keeping ``scale`` objects if asked)."""
    backends = [
        Backend(name=b.name, url=urls[b.name], max_in_flight=b.max_in_flight, scale=b.scale if scale else None)
        for b in model_map.backends
    ]
    return model_map.model_copy(update={"backends": backends})


@contextlib.contextmanager
def running_router(
    model_map: ModelMap, workdir: Path, *, port: int = 0, api_key: str | None = None, kubeconfig: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The real router in its own process, serving ``model_map`` on 127.0.0.1; yields its URL and process.

    With ``kubeconfig``, the router reaches its Kubernetes API through it (pools that scale to zero).

    Its model map and JSON log are written into ``workdir``; the log is shown if start-up fails. It is
    stopped (and waited for) when the block ends, however it ends.
    """
    map_file, log = workdir / "model-map.json", workdir / "router.log"
    map_file.write_text(model_map.to_json(), encoding="utf-8")
    port = port or port_to_use(0)
    env = {
        **os.environ,
        "FLEET_API_KEYS": api_key or "",
        "FLEET_ADMIN_KEYS": "",
        "FLEET_DRAIN_NOTICE_SECONDS": "0",
        "FLEET_DRAIN_SECONDS": "5",
    }
    if kubeconfig is not None:
        env["KUBECONFIG"] = str(kubeconfig)
    command = [sys.executable, "-m", "router", "--model-map", str(map_file), "--host", LOOPBACK, "--port", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=sink)
    url = f"http://{LOOPBACK}:{port}"
    try:
        try:
            _wait_ready(url, process)
        except BaseException:
            print(f"\nrouter log ({log}):\n{log.read_text(encoding='utf-8')}", file=sys.stderr)
            raise
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise FleetStartError(f"the router exited with code {process.returncode} before it was ready")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise FleetStartError(f"the router did not become ready within {STARTUP_SECONDS:.0f} s")
