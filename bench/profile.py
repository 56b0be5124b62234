"""``--profile``: where the router's CPU goes under load, recorded after (and apart from) the measurements.

For each profiled scenario (64 unpaced streams, then 256 streams at the token rate) three recordings
follow each other under the same load, one tracer at a time:

1. ``py-spy --nonblocking`` (Python frames, ``<name>.folded``), summarised by cost bucket and by function.
   Non-blocking sampling is used for the numbers because blocking sampling (which ``--native`` needs)
   stops the process at syscall boundaries, which over-weights ``read``/``write`` about twofold here.
2. ``py-spy --native`` flame graph (``<name>.svg``), for reading C frames (uvloop, httptools, libc).
3. ``perf`` (when installed), the share of CPU per shared object: kernel, interpreter, extensions.
"""

from __future__ import annotations

import asyncio
import collections
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from bench.load import Plan, run_load
from bench.procs import Pinning

RATE_HZ = 200
TOP = 20


def _in(path: str, *names: str) -> Callable[[str], bool]:
    """A matcher for frames ``[Class.]name (path:line)`` of any of ``names`` in a file under ``path``."""

    def match(frame: str) -> bool:
        function, _, where = frame.partition(" (")
        return where.startswith(path) and (not names or function.rpartition(".")[2] in names)

    return match


# Where the router's CPU goes, by a frame found on the sample's stack (first match wins).
BUCKETS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("access log (Gate._log)", _in("router/edge/gate.py", "_log")),
    ("relay: send() to the client (uvicorn)", _in("uvicorn/protocols/http/", "send")),
    ("relay: waiting for upstream chunks", _in("router/upstream/", "read", "_wait")),
    ("relay: the loop itself", _in("router/endpoints/relay.py", "relay")),
    ("upstream: parse + queue (UpstreamConnection.data_received)", _in("router/upstream/", "data_received")),
    ("request: forward/exchange/pool", _in("router/", "first_answer", "exchange", "checkout", "checkin")),
    ("request: body, JSON, routing (RoutedHandler._plan)", _in("router/endpoints/by_model.py", "_plan")),
    ("request: disconnect watcher", _in("router/edge/disconnect.py")),
    ("request: rest of the gate and handlers", _in("router/edge/gate.py")),
    ("client: uvicorn parsing and task setup", _in("uvicorn/protocols/")),
    ("event loop and everything else", lambda _: True),
)


def py_spy_binary() -> str | None:
    """py-spy next to this interpreter (``pip install py-spy`` into the venv), or on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def _py_spy(binary: str, pid: int, out: Path, *, native: bool, seconds: float) -> list[str]:
    argv = [binary, "record", "--pid", str(pid), "--rate", str(RATE_HZ), "--duration", str(round(seconds))]
    argv += ["--native", "--format", "flamegraph"] if native else ["--nonblocking", "--format", "raw"]
    return [*argv, "-o", str(out)]


def _perf(out: Path, pid: int, seconds: float) -> list[str]:
    return ["perf", "record", "-F", "499", "-p", str(pid), "-o", str(out), "--", "sleep", str(round(seconds))]


async def _run(argv: list[str], pinning: Pinning) -> str:
    """Run a recorder on the load CPU; its stderr."""
    command = [*pinning.prefix(pinning.load_cpu), *argv]
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, check=False)
    return done.stderr


async def profile(pid: int, plan: Plan, out: Path, *, pinning: Pinning, seconds: float = 6.0) -> list[str]:
    """Profile process ``pid`` while ``plan`` runs (its duration is stretched to cover every recording)."""
    binary = py_spy_binary()
    if binary is None:
        return ["py-spy not installed (`.venv/bin/pip install py-spy`): no profile"]
    out.parent.mkdir(parents=True, exist_ok=True)
    folded, svg, perf_data = out.with_suffix(".folded"), out.with_suffix(".svg"), out.with_suffix(".perf")
    stretched = Plan(plan.port, plan.jobs, plan.concurrency, 3 * seconds + 6.0 + plan.ramp, plan.interval,
                     plan.stagger, plan.ramp)  # fmt: skip
    load = asyncio.create_task(run_load(stretched))
    await asyncio.sleep(plan.ramp + 1.0)
    errors = await _run(_py_spy(binary, pid, folded, native=False, seconds=seconds), pinning)
    await _run(_py_spy(binary, pid, svg, native=True, seconds=seconds), pinning)
    split = []
    if shutil.which("perf"):
        perf_data.unlink(missing_ok=True)
        await _run(_perf(perf_data, pid, seconds), pinning)
        split = perf_split(perf_data)
    await load
    if not folded.exists():
        return ["py-spy failed: " + errors.strip()[-300:]]
    return [f"flame graph (--native): {svg}", *summarise(folded.read_text()), *split]


def perf_split(data: Path, top: int = 8) -> list[str]:
    """CPU share per shared object from a ``perf record`` file (kernel vs interpreter vs extensions)."""
    argv = ["perf", "report", "-i", str(data), "--sort", "dso", "--stdio", "-g", "none", "--no-children"]
    report = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
    rows = [line.strip() for line in report.splitlines() if line.strip() and not line.startswith("#")]
    return ["perf, CPU by shared object:", *(f"  {row}" for row in rows[:top])] if rows else []


def _stacks(folded: str) -> list[tuple[list[str], int]]:
    stacks = []
    for line in folded.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def summarise(folded: str) -> list[str]:
    """Samples by cost bucket (:data:`BUCKETS`), then the functions with the most own samples."""
    stacks = _stacks(folded)
    total = sum(count for _, count in stacks)
    if not total:
        return ["py-spy recorded no samples"]
    buckets: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    for frames, count in stacks:
        name = next(label for label, match in BUCKETS if any(match(frame) for frame in frames))
        buckets[name] += count
        own[frames[-1]] += count
    lines = [f"py-spy, {total} samples, by where they were spent (first match from the top of this list):"]
    lines += [f"  {100 * buckets[label] / total:5.1f} %  {label}" for label, _ in BUCKETS]
    lines.append("functions with the most own samples:")
    lines += [f"  {100 * n / total:5.1f} %  {name}" for name, n in own.most_common(TOP)]
    return lines
