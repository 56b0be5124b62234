"""What a process costs, read from ``/proc``: CPU time of a process tree and peak resident memory.

CPU is ``utime + stime`` from ``/proc/<pid>/stat`` summed over the process and its live descendants
(nginx's master and worker; uvicorn's process and any child it spawns), read before and after a scenario.
Peak memory is ``VmHWM`` from ``/proc/<pid>/status``: the serving process's high-water mark, which is the
leaf of the tree (nginx's worker, or uvicorn's child when it forks one; else the process itself).
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name (field 3 onwards), or None if gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid``."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and all its live descendants, parents first."""
    pids, index = [pid], 0
    while index < len(pids):
        pids.extend(children_of(pids[index]))
        index += 1
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its live descendants (0 for a vanished process)."""
    total = 0
    for member in tree(pid):
        fields = _stat_fields(member)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def _status_kib(pid: int, key: str) -> int:
    try:
        lines = (PROC / str(pid) / "status").read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def peak_rss_mib(pid: int) -> float:
    """Peak resident set (``VmHWM``) of the serving process of ``pid``'s tree, in MiB."""
    members = tree(pid)
    leaves = [member for member in members if not children_of(member)] or members
    return max(_status_kib(member, "VmHWM") for member in leaves) / 1024


def cpu_ticks() -> tuple[int, int]:
    """Ticks since boot over all CPUs, from ``/proc/stat``: (busy, stolen by the hypervisor).

    Busy is user + nice + system + irq + softirq: what processes (and interrupts in their context) used.
    """
    for line in (PROC / "stat").read_text().splitlines():
        name, *values = line.split()
        if name == "cpu":
            user, nice, system, _idle, _iowait, irq, softirq, steal = (int(value) for value in values[:8])
            return user + nice + system + irq + softirq, steal
    return 0, 0


def busy_ticks_per_cpu() -> dict[int, int]:
    """Busy ticks (as :func:`cpu_ticks` counts them) per CPU since boot."""
    busy: dict[int, int] = {}
    for line in (PROC / "stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name != "cpu":
            user, nice, system, _idle, _iowait, irq, softirq = (int(value) for value in values[:7])
            busy[int(name[3:])] = user + nice + system + irq + softirq
    return busy
