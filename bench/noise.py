"""Noticing when something else used the benchmark's CPUs during a measurement, and retrying it.

Numbers taken while another process runs on the proxy's CPU (or on the load CPU) say nothing about the
proxy. For each measurement the meter compares each pinned CPU's busy ticks (``/proc/stat``) with what
the benchmark's own processes used there: on the proxy CPU the proxy's process tree; on the load CPU the
sims, this process and the children it reaped meanwhile (``wrk``). The rest is foreign. A measurement
with more than :data:`MAX_FOREIGN` of a CPU foreign is taken again, up to :data:`RETRIES` times, and the
quietest attempt is kept; the report says how noisy the kept ones still were. Before each attempt the
meter also waits (up to :data:`QUIET_WAIT_S`) for half a second in which the CPUs are quiet.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench.procfs import CLOCK_TICKS, busy_ticks_per_cpu, cpu_seconds
from bench.procs import Pinning

MAX_FOREIGN = 0.10
"""Share of one CPU that others may use during a measurement before it is retried."""
RETRIES = 2
QUIET_WAIT_S = 15.0
"""Longest wait, before each measurement, for the CPUs to be quiet."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """CPU counters at one moment."""

    wall: float
    busy: dict[int, int]
    proxy: float
    load: float


class NoiseMeter:
    """Measures foreign CPU use on the load and proxy CPUs between two snapshots."""

    def __init__(self, pinning: Pinning, sim_pids: Sequence[int]) -> None:
        self.pinning = pinning
        self.sim_pids = list(sim_pids)

    def snapshot(self, proxy_pid: int | None) -> Snapshot:
        """Counters now; ``proxy_pid`` is the proxy under test (None when direct)."""
        times = os.times()
        load = times.user + times.system + times.children_user + times.children_system
        load += sum(cpu_seconds(pid) for pid in self.sim_pids)
        proxy = cpu_seconds(proxy_pid) if proxy_pid is not None else 0.0
        return Snapshot(time.monotonic(), busy_ticks_per_cpu(), proxy, load)

    def foreign(self, before: Snapshot, after: Snapshot) -> float:
        """The larger foreign share of one CPU (0..1) on the load or proxy CPU; 0 when unpinned."""
        load_cpu, proxy_cpu = self.pinning.load_cpu, self.pinning.proxy_cpu
        wall = after.wall - before.wall
        if load_cpu is None or proxy_cpu is None or wall <= 0:
            return 0.0

        def busy(cpu: int) -> float:
            return (after.busy.get(cpu, 0) - before.busy.get(cpu, 0)) / CLOCK_TICKS

        on_proxy = busy(proxy_cpu) - (after.proxy - before.proxy)
        on_load = busy(load_cpu) - (after.load - before.load)
        return max(0.0, on_proxy, on_load) / wall

    async def wait_quiet(self, proxy_pid: int | None, window: float = 0.5) -> float:
        """Wait until others leave the CPUs alone for ``window`` seconds (or give up); the last share seen."""
        deadline = time.monotonic() + QUIET_WAIT_S
        while True:
            before = self.snapshot(proxy_pid)
            await asyncio.sleep(window)
            share = self.foreign(before, self.snapshot(proxy_pid))
            if share <= MAX_FOREIGN or time.monotonic() >= deadline:
                return share
