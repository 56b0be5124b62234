"""The scenarios of ``make bench``, run against each target, interleaved, run after run.

Within a run every scenario is measured on direct, nginx and the router back to back, so slow drift of
the machine hits all three alike, and ratios compare numbers measured minutes apart at most. Proxy CPU
is the proxy's process tree's ``utime + stime`` across the scenario (``/proc``), divided by the lines the
load generator received.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.load import LoadResult, Plan, first_line_times, run_load
from bench.noise import MAX_FOREIGN, RETRIES, NoiseMeter
from bench.procfs import cpu_seconds
from bench.procs import Pinning
from bench.stack import FAST_MODEL, PACED_MODEL, Target
from bench.stats import percentile
from bench.verify import Job, chat_body, chat_jobs, fetch, tags_job
from bench.wrk import run_wrk

Scenario = Callable[[Target], Awaitable[dict[str, float]]]

PAUSE_S = 0.3
"""Quiet time between two measurements (sockets of the last one close)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Sizes and lengths of the scenarios (``--quick`` shortens them)."""

    runs: int = 3
    streams: int = 64
    stream_seconds: float = 5.0
    paced_streams: int = 256
    paced_seconds: float = 5.0
    token_rate: float = 50.0
    tokens: int = 100
    tags_connections: int = 64
    tags_seconds: float = 5.0
    ttfb_requests: int = 500


@dataclass(frozen=True, slots=True)
class Workload:
    """Every job, with the bytes it must be answered with (taken from the sims directly)."""

    fast: list[Job]
    paced: list[Job]
    warm: Job
    tags: Job


@dataclass(slots=True)
class Measurements:
    """Per metric, per target, one value per run; plus what went wrong."""

    values: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    responses: dict[str, int] = field(default_factory=dict)
    bad: dict[str, int] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)
    tags_tool: str = "wrk"
    noise: list[float] = field(default_factory=list)

    def add(self, metric: str, target: str, value: float) -> None:
        """Record one run's value."""
        self.values.setdefault(metric, {}).setdefault(target, []).append(value)

    def account(self, target: str, responses: int, bad: int, problems: list[str]) -> None:
        """Count verified responses and keep the first few problems."""
        self.responses[target] = self.responses.get(target, 0) + responses
        self.bad[target] = self.bad.get(target, 0) + bad
        kept = self.problems.setdefault(target, [])
        kept.extend(problems[: max(0, 5 - len(kept))])


async def build_workload(direct: Target) -> Workload:
    """Ask the sims once for every expected answer."""
    warm_body = chat_body(PACED_MODEL, 0).replace(b'"stream":true', b'"stream":true,"options":{"num_predict":1}')
    warm = Job("POST", "/api/chat", warm_body, await fetch(direct.paced_port, "POST", "/api/chat", warm_body))
    return Workload(
        fast=await chat_jobs(direct.fast_port, FAST_MODEL),
        paced=await chat_jobs(direct.paced_port, PACED_MODEL),
        warm=warm,
        tags=await tags_job(direct.fast_port),
    )


class Runner:
    """Runs the scenarios on the targets and fills :class:`Measurements`."""

    def __init__(
        self,
        settings: Settings,
        workload: Workload,
        pinning: Pinning,
        workdir: Path,
        *,
        wrk: str | None,
        meter: NoiseMeter,
    ) -> None:
        self.meter = meter
        self.settings = settings
        self.workload = workload
        self.pinning = pinning
        self.workdir = workdir
        self.wrk = wrk
        self.out = Measurements(tags_tool="wrk" if wrk else "python load generator")

    def _cpu(self, target: Target) -> float:
        return cpu_seconds(target.pid) if target.pid is not None else math.nan

    async def _measured(self, target: Target, make: Callable[[], Plan]) -> tuple[LoadResult, float]:
        """Run a load plan; return its result and the proxy CPU seconds it cost."""
        await asyncio.sleep(PAUSE_S)
        before = self._cpu(target)
        result = await run_load(make())
        cpu = self._cpu(target) - before
        self.out.account(target.name, result.responses, result.bad, result.problems)
        return result, cpu

    async def warm_up(self, target: Target) -> None:
        """Open the proxy's upstream connections and warm its code paths; nothing is recorded."""
        settings, workload = self.settings, self.workload
        await run_load(Plan(target.fast_port, workload.fast, settings.streams, 0.5))
        await run_load(Plan(target.paced_port, [workload.warm], settings.paced_streams, 0.5))

    async def streams(self, target: Target) -> dict[str, float]:
        """64 unpaced streams: lines/s and proxy CPU µs per line."""
        s = self.settings
        result, cpu = await self._measured(
            target, lambda: Plan(target.fast_port, self.workload.fast, s.streams, s.stream_seconds)
        )
        return {
            "lines_per_s": result.lines / result.elapsed if result.elapsed else math.nan,
            "cpu_us_per_line": cpu / result.lines * 1e6 if result.lines else math.nan,
        }

    async def paced(self, target: Target) -> dict[str, float]:
        """256 streams at the token rate: p99 lateness per line and proxy CPU µs per line.

        Stream starts are spread evenly over one stream's length (the ramp), so requests arrive at a
        steady rate and token phases are spread, as with independent users; ``paced_seconds`` of full
        concurrency follow the ramp.
        """
        s = self.settings
        interval = 1.0 / s.token_rate
        ramp = s.tokens * interval
        stagger = ramp / s.paced_streams
        port, jobs = target.paced_port, self.workload.paced
        result, cpu = await self._measured(
            target, lambda: Plan(port, jobs, s.paced_streams, ramp + s.paced_seconds, interval, stagger, ramp)
        )
        return {
            "p99_lateness_ms": percentile(result.lateness, 0.99) * 1e3,
            "p50_lateness_ms": percentile(result.lateness, 0.50) * 1e3,
            "cpu_us_per_paced_line": cpu / result.lines * 1e6 if result.lines else math.nan,
        }

    async def tags(self, target: Target) -> dict[str, float]:
        """``GET /api/tags`` at 64 connections: requests per second (wrk, else the Python generator)."""
        s, job = self.settings, self.workload.tags
        await asyncio.sleep(PAUSE_S)
        if self.wrk is None:
            result = await run_load(Plan(target.fast_port, [job], s.tags_connections, s.tags_seconds))
            self.out.account(target.name, result.responses, result.bad, result.problems)
            good = result.responses - result.bad
            return {"tags_rps": good / result.elapsed if result.elapsed else math.nan}
        found = await asyncio.to_thread(
            run_wrk, self.wrk, target.fast_port, job.path, job.expected, self.workdir,
            connections=s.tags_connections, seconds=s.tags_seconds, pinning=self.pinning,
        )  # fmt: skip
        self.out.account(target.name, found.ok + found.bad, found.bad, [found.problem] if found.problem else [])
        return {"tags_rps": found.rps}

    async def ttfb(self, target: Target) -> dict[str, float]:
        """One stream at a time: p99 time to the first complete line."""
        await asyncio.sleep(PAUSE_S)
        result = await first_line_times(target.fast_port, self.workload.fast[0], self.settings.ttfb_requests)
        self.out.account(target.name, result.responses, result.bad, result.problems)
        return {
            "ttfb_p99_ms": percentile(result.first_lines, 0.99) * 1e3,
            "ttfb_p50_ms": percentile(result.first_lines, 0.50) * 1e3,
        }

    async def take(self, target: Target, scenario: Scenario, progress: Callable[[str], None]) -> None:
        """Measure ``scenario`` on ``target``, again when others used the CPUs meanwhile; keep the quietest."""
        best: tuple[float, dict[str, float]] | None = None
        for attempt in range(RETRIES + 1):
            await self.meter.wait_quiet(target.pid)
            before = self.meter.snapshot(target.pid)
            values = await scenario(target)
            noise = self.meter.foreign(before, self.meter.snapshot(target.pid))
            if best is None or noise < best[0]:
                best = (noise, values)
            if noise <= MAX_FOREIGN:
                break
            if attempt < RETRIES:
                progress(f"  other processes used {noise:.0%} of a CPU meanwhile: measuring again")
        assert best is not None
        self.out.noise.append(best[0])
        for metric, value in best[1].items():
            self.out.add(metric, target.name, value)

    async def run_all(self, targets: list[Target], progress: Callable[[str], None]) -> Measurements:
        """Warm every target, then ``runs`` rounds of every scenario on every target."""
        for target in targets:
            await self.warm_up(target)
        scenarios: list[tuple[str, Scenario]] = [("64 streams", self.streams), ("256 paced", self.paced)]
        scenarios += [("tags", self.tags), ("ttfb", self.ttfb)]
        for run in range(1, self.settings.runs + 1):
            for label, scenario in scenarios:
                for target in targets:
                    progress(f"run {run}/{self.settings.runs}: {label} via {target.name}")
                    await self.take(target, scenario, progress)
        return self.out
