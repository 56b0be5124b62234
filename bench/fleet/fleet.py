"""The fleet under test: simulated Ollama replicas on this event loop, and the real router in a child process.

Each pool's replicas listen on one port at consecutive loopback addresses (127.0.0.2, 127.0.0.3 ...), with
Ollama's scheduler simulated (:mod:`ollama_sim.scheduler`) at the scenario's time scale. The router runs
``bench.fleet.router_main`` (the real application, told each pool's addresses) with the policy under test
and the residency poll interval scaled like everything else; it gets a fresh start, and so do the
replicas, for every policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.client import ClientError, build_request, connect
from bench.fleet.scenario import GB, Scenario
from bench.procs import Child, Pinning, StartError, free_port
from ollama_sim import SimConfig, SimulatedOllama
from ollama_sim.scheduler import SchedulerConfig

READY_TIMEOUT_S = 30.0


@dataclass(slots=True)
class Fleet:
    """The replicas (by pool) and the router process of one policy's run."""

    sims: dict[str, list[SimulatedOllama]] = field(default_factory=dict)
    router: Child | None = None
    port: int = 0

    def loads(self) -> int:
        """Models every replica loaded (the cold starts that really happened)."""
        return sum(
            sum(sim.app.scheduler.loads.values()) for sims in self.sims.values() for sim in sims if sim.app.scheduler
        )

    def evictions(self) -> int:
        """Models unloaded to make room for another."""
        return sum(sim.app.scheduler.evictions for sims in self.sims.values() for sim in sims if sim.app.scheduler)

    async def aclose(self) -> None:
        """Stop the router, then every replica."""
        if self.router is not None:
            await asyncio.to_thread(self.router.stop)
        for sims in self.sims.values():
            for sim in sims:
                await sim.close()


def sim_config(scenario: Scenario, pool_index: int, address: str, port: int) -> SimConfig:
    """One replica of pool ``pool_index``, in real seconds."""
    pool = scenario.pools[pool_index]
    scheduler = SchedulerConfig(
        vram_bytes=int(pool.vram_gb * GB),
        load_seconds_per_gb=pool.load_seconds_per_gb * scenario.scale,
        num_parallel=scenario.num_parallel,
        keep_alive=scenario.keep_alive * scenario.scale,
    )
    rate = pool.token_rate / scenario.scale
    return SimConfig(
        name=pool.name,
        models=scenario.models,
        token_rate=rate,
        tokens=scenario.tokens,
        host=address,
        port=port,
        record_requests=False,
        scheduler=scheduler,
    )


async def start_sims(scenario: Scenario, fleet: Fleet) -> dict[str, list[str]]:
    """Start every replica; the addresses of each pool's ``localhost:PORT``."""
    replicas: dict[str, list[str]] = {}
    octet = 2
    for index, pool in enumerate(scenario.pools):
        port = free_port()
        addresses = [f"127.0.0.{octet + n}" for n in range(pool.replicas)]
        octet += pool.replicas
        fleet.sims[pool.name] = []
        for address in addresses:
            sim = SimulatedOllama(sim_config(scenario, index, address, port))
            await sim.start()
            fleet.sims[pool.name].append(sim)
        replicas[f"localhost:{port}"] = addresses
    return replicas


def model_map(scenario: Scenario, fleet: Fleet) -> dict[str, object]:
    """Every model routed to every pool at one priority; each pool a ``resolve: true`` backend."""
    backends = [
        {
            "name": name,
            "url": f"http://localhost:{sims[0].port}",
            "resolve": True,
            "num_parallel": scenario.num_parallel,
        }
        for name, sims in fleet.sims.items()
    ]
    targets = [{"name": name, "priority": 0, "weight": 1.0} for name in fleet.sims]
    return {"backends": backends, "routes": [{"model": model, "backends": targets} for model in scenario.models]}


async def start_fleet(scenario: Scenario, policy: str, workdir: Path, pinning: Pinning) -> Fleet:
    """Replicas and router for one run of ``policy``; the router answers ``/readyz`` when this returns."""
    fleet = Fleet()
    try:
        replicas = await start_sims(scenario, fleet)
        map_file = workdir / "model-map.json"
        map_file.write_text(json.dumps(model_map(scenario, fleet), indent=2), encoding="utf-8")
        fleet.port = free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith("FLEET_")}
        root = str(Path(__file__).resolve().parents[2])
        env.update(
            PYTHONUNBUFFERED="1",
            PYTHONPATH=os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")])),
            FLEET_BALANCE=policy,
            FLEET_PS_INTERVAL=f"{scenario.ps_interval * scenario.scale:g}",
            FLEET_LOG_LEVEL="warning",
            FLEET_BENCH_REPLICAS=json.dumps(replicas),
        )
        args = ["--model-map", str(map_file), "--host", "127.0.0.1", "--port", str(fleet.port)]
        argv = [*pinning.prefix(pinning.proxy_cpu), sys.executable, "-m", "bench.fleet.router_main", *args]
        fleet.router = Child(f"router ({policy})", argv, workdir / f"router-{policy}.log", env)
        await wait_ready(fleet.router, fleet.port)
    except BaseException:
        await fleet.aclose()
        raise
    return fleet


async def wait_ready(child: Child, port: int) -> None:
    """Until ``GET /readyz`` answers 200; :class:`StartError` if the router dies or never gets ready."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    request = build_request("GET", "/readyz", port)
    while time.monotonic() < deadline:
        if not child.alive():
            raise StartError(f"{child.name} exited with status {child.proc.returncode}:\n{child.tail()}")
        with contextlib.suppress(OSError, ClientError, TimeoutError):
            conn = await connect(port)
            try:
                if (await asyncio.wait_for(conn.request(request), 2.0)).status == 200:
                    return
            finally:
                conn.close()
        await asyncio.sleep(0.1)
    raise StartError(f"{child.name} did not get ready within {READY_TIMEOUT_S:g} s:\n{child.tail()}")
