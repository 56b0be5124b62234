"""One benchmark run: the same seeded workload through the real router under each policy, then the report."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from bench.client import ClientError, build_request, connect
from bench.fleet.drive import Expected, check, drive
from bench.fleet.fleet import Fleet, sim_config, start_fleet
from bench.fleet.report import PolicyResult, clairvoyant, scenario_lines, table, verdict
from bench.fleet.scenario import Scenario
from bench.procs import Pinning

POLICIES = ("round-robin", "least-outstanding", "warm-first")
"""Every policy the router offers, the blind ones first."""

_COUNTER = re.compile(r"^fleet_(cold_starts|warm_hits)_total\{[^}]*\} (\d+)$", re.MULTILINE)


async def router_counts(port: int) -> dict[str, int]:
    """What the router itself counted: cold starts and warm hits (``/metrics``)."""
    counts = {"cold_starts": 0, "warm_hits": 0}
    try:
        conn = await connect(port)
        try:
            reply = await asyncio.wait_for(conn.request(build_request("GET", "/metrics", port)), 10.0)
        finally:
            conn.close()
    except (OSError, ClientError, TimeoutError):
        return counts
    for name, value in _COUNTER.findall(reply.body.decode()):
        counts[name] += int(value)
    return counts


async def run_policy(scenario: Scenario, policy: str, workdir: Path, pinning: Pinning) -> PolicyResult:
    """Start a fresh fleet and router, drive the workload through it, and stop everything."""
    fleet: Fleet = await start_fleet(scenario, policy, workdir, pinning)
    try:
        outcomes = await drive(scenario, scenario.arrivals(), fleet.port)
        counts = await router_counts(fleet.port)
        loads, evictions = fleet.loads(), fleet.evictions()
    finally:
        await fleet.aclose()
    return PolicyResult(policy, outcomes, loads, evictions, counts)


async def run(scenario: Scenario, workdir: Path, pinning: Pinning, policies: tuple[str, ...] = POLICIES) -> str:
    """Every policy in turn; the report (Markdown), with every answer's bytes checked."""
    results = [await run_policy(scenario, policy, workdir, pinning) for policy in policies]
    expected = Expected([sim_config(scenario, index, "127.0.0.1", 0) for index in range(len(scenario.pools))])
    for result in results:
        check(result.outcomes, expected)
    arrivals = scenario.arrivals()
    lines = ["# Fleet simulation: round-robin, least-outstanding and warm-first on one seeded workload", ""]
    lines += scenario_lines(scenario, arrivals)
    lines += [f"- CPUs: {pinning.note}", ""]
    lines += table(results, clairvoyant(scenario, arrivals))
    lines += ["", "Targets (warm-first against least-outstanding):", ""]
    lines += verdict(results)
    lines += ["", "What the router itself counted (`fleet_cold_starts_total`, `fleet_warm_hits_total`):", ""]
    for result in results:
        counts = result.router_counts
        lines.append(f"- `{result.policy}`: {counts['cold_starts']} cold starts, {counts['warm_hits']} warm hits")
    errors = [(r.policy, o.error) for r in results for o in r.outcomes if o.error is not None]
    if errors:
        lines += ["", f"First errors ({len(errors)} in all):", ""]
        lines += [f"- `{policy}`: {error}" for policy, error in errors[:5]]
    return "\n".join(lines) + "\n"
