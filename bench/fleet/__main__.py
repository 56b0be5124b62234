"""``python -m bench.fleet [--scenario default|tiny] [--out FILE]``: the fleet simulation (``make bench-fleet``).

Prints the table and writes it to ``build/bench/fleet.md``. The router runs on its own CPU when
``taskset`` and two CPUs are available; the simulated replicas and the load generator share the other.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.fleet.run import run
from bench.fleet.scenario import DEFAULT, TINY
from bench.procs import detect_pinning, pin_self, raise_file_limit
from ollama_sim.loops import new_event_loop

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every policy ran (targets missed are reported, not an exit status)."""
    parser = argparse.ArgumentParser(prog="python -m bench.fleet", description=__doc__)
    parser.add_argument("--scenario", choices=("default", "tiny"), default="default")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench" / "fleet.md")
    args = parser.parse_args(argv)
    scenario = DEFAULT if args.scenario == "default" else TINY
    pinning = detect_pinning()
    pin_self(pinning.load_cpu)
    raise_file_limit()
    loop = new_event_loop()
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as workdir:
        report = loop.run_until_complete(run(scenario, Path(workdir), pinning))
    loop.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print(report, end="")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
