"""``python -m bench`` (``make bench``): measure direct, nginx and the router; print one table.

Exit status: 0 when every response was byte-exact and every proxy started, whether or not the router met
its targets (this is a measurement, not a test); 1 when any response was wrong or a proxy failed to
start; 2 when the sims themselves could not start.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import uvloop

from bench.load import Plan
from bench.nginx import nginx_binary
from bench.noise import MAX_FOREIGN, NoiseMeter
from bench.procfs import cpu_ticks, peak_rss_mib
from bench.procs import Pinning, StartError, detect_pinning, pin_self, raise_file_limit
from bench.profile import profile
from bench.report import run_details, table, verdict
from bench.scenarios import Measurements, Runner, Settings, Workload, build_workload
from bench.stack import Stack, Target, start_stack
from bench.wrk import wrk_binary

QUICK = Settings(runs=1, stream_seconds=2.0, paced_seconds=2.0, tags_seconds=2.0, ttfb_requests=200)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario; medians are reported (default 3)")
    parser.add_argument("--quick", action="store_true", help="one short run of everything (a smoke check)")
    parser.add_argument("--out", type=Path, default=Path("build/bench/latest.md"), help="where to write the table")
    parser.add_argument("--no-nginx", action="store_true", help="skip nginx even when it is installed")
    parser.add_argument("--profile", action="store_true", help="afterwards, profile the router under load (py-spy)")
    parser.add_argument("--profile-only", action="store_true", help="only profile the router; measure nothing")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def say(text: str) -> None:
    """Progress on stderr, so stdout is only the report."""
    print(f"bench: {text}", file=sys.stderr, flush=True)


async def measure(stack: Stack, settings: Settings, args: argparse.Namespace) -> tuple[Measurements, list[str]]:
    """Expected bytes, the scenarios on every live target, peak RSS, and the optional profile."""
    workload = await build_workload(stack.targets[0])
    data = Measurements()
    if not args.profile_only:
        sims = [child.pid for child in stack.children if child.name.startswith("sim ")]
        meter = NoiseMeter(stack.pinning, sims)
        runner = Runner(settings, workload, stack.pinning, stack.workdir, wrk=wrk_binary(), meter=meter)
        data = await runner.run_all(stack.targets, say)
        for target in stack.targets:
            if target.pid is not None:
                data.add("peak_rss_mib", target.name, peak_rss_mib(target.pid))
    router = next((t for t in stack.targets if t.name == "router"), None)
    if not (args.profile or args.profile_only) or router is None or router.pid is None:
        return data, []
    return data, await profile_router(router, workload, settings, stack.pinning, args.out.parent)


async def profile_router(router: Target, workload: Workload, s: Settings, pinning: Pinning, out_dir: Path) -> list[str]:
    """py-spy (and perf) on the router under 64 unpaced streams, then under the paced streams."""
    assert router.pid is not None
    say("profiling the router: 64 unpaced streams, then the paced streams")
    interval = 1.0 / s.token_rate
    ramp = s.tokens * interval
    unpaced = Plan(router.fast_port, workload.fast, s.streams, 0.0)
    paced = Plan(router.paced_port, workload.paced, s.paced_streams, 0.0, interval, ramp / s.paced_streams, ramp)
    report = ["64 unpaced streams:"]
    report += await profile(router.pid, unpaced, out_dir / "router.svg", pinning=pinning)
    report += ["", f"{s.paced_streams} streams at {s.token_rate:g} tokens/s:"]
    report += await profile(router.pid, paced, out_dir / "router-paced.svg", pinning=pinning)
    return report


def machine_notes(pinning: Pinning, ticks_before: tuple[int, int], wall: float, nginx: str | None) -> list[str]:
    """Where things ran, what was missing, and how much CPU other processes took meanwhile."""
    notes = [f"pinning: {pinning.note}"]
    if nginx is None:
        notes.append(
            "nginx: not installed (`apt-get install -y nginx`): no nginx column, nginx-relative targets not judged"
        )
    if wrk_binary() is None:
        notes.append("wrk: not installed (`apt-get install -y wrk`): /api/tags measured with the Python load generator")
    busy, steal = (after - before for after, before in zip(cpu_ticks(), ticks_before, strict=True))
    per_second = os.sysconf("SC_CLK_TCK") * wall
    other = max(0.0, busy / per_second - sum(os.times()[:4]) / wall) if wall else 0.0
    notes.append(f"machine: processes other than the benchmark's used ~{100 * other:.0f} % of one CPU meanwhile")
    if wall and steal / per_second > 0.01:
        notes.append(f"machine: the hypervisor stole ~{100 * steal / per_second:.0f} % of one CPU meanwhile")
    return notes


def render(data: Measurements, stack: Stack, notes: list[str], settings: Settings, profile: list[str]) -> str:
    """The report: the table, notes, per-run values, the profile, and the verdict line last."""
    lines, missed = table(data)
    head = f"## make bench: router vs nginx vs direct (medians of {settings.runs} run{'s' * (settings.runs > 1)})"
    out = [head, "", *lines, "", *(f"- {note}" for note in notes)]
    if data.noise:
        worst = max(data.noise)
        noisy = sum(1 for share in data.noise if share > MAX_FOREIGN)
        out.append(
            f"- noise: other processes used at most {worst:.0%} of a benchmark CPU during a kept measurement"
            + (f"; {noisy} measurement(s) stayed noisy after retries: treat this table with care" if noisy else "")
        )
    for name, error in stack.failed.items():
        first, *rest = error.splitlines() or [""]
        out.append(f"- {name} failed to start: {first}")
        out += [f"    {line}" for line in rest[-8:]]
    for target, problems in data.problems.items():
        out += [f"- bad response via {target}: {problem}" for problem in problems]
    out += ["", "Per-run values:", "", *run_details(data)]
    if profile:
        out += ["", "Router profile (py-spy, after the measurements):", "", "```", *profile, "```"]
    return "\n".join(out) + "\n\n" + verdict(missed, stack.failed) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; see the module docstring for the exit status."""
    args = parse_args(argv)
    settings = QUICK if args.quick else replace(Settings(), runs=args.runs)
    pinning = detect_pinning()
    raise_file_limit()
    pin_self(pinning.load_cpu)
    nginx = None if args.no_nginx else nginx_binary()
    ticks_before, started = cpu_ticks(), time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        stack = Stack(pinning, Path(tmp))
        try:
            say(f"starting the sims, {'nginx, ' if nginx else ''}the router ({pinning.note})")
            start_stack(stack, tokens=settings.tokens, token_rate=settings.token_rate, nginx=nginx, router=True)
            data, profile = uvloop.run(measure(stack, settings, args))
        except StartError as error:
            print(f"bench: the simulated Ollama did not start: {error}", file=sys.stderr)
            return 2
        finally:
            stack.stop()
    if args.profile_only:
        print("\n".join(profile or [f"no profile: {stack.failed.get('router', 'the router did not start')}"]))
        return 1 if stack.failed.get("router") else 0
    notes = machine_notes(pinning, ticks_before, time.monotonic() - started, nginx)
    text = render(data, stack, notes, settings, profile)
    print(text, end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    broken = bool(stack.failed) or any(data.bad.values())
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
