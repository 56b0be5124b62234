"""The benchmark harness checks what it claims to check: byte-exact answers, and honest statistics.

One tiny scenario (8 streams × 10 tokens) runs against a real sim directly and through the real router;
then through a relay that corrupts one byte per line, which must be caught. No timing is asserted.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterator

import pytest

from bench.load import LoadResult, Plan, first_line_times, run_load
from bench.procs import Pinning
from bench.report import table, verdict
from bench.scenarios import Measurements, Workload, build_workload
from bench.stack import Stack, Target, start_router, start_sim
from bench.stats import median, percentile, ratio
from bench.verify import problem

TOKENS = 10
STREAMS = 8
CLEAN = b'"role":"assistant"'
DIRTY = b'"role":"assistanT"'


def test_median_and_percentile() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert math.isnan(median([]))
    assert median([math.nan, 5.0]) == 5.0
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == pytest.approx(50.5)
    assert percentile(values, 0.99) == pytest.approx(99.01)
    assert percentile([7.0], 0.99) == 7.0
    assert math.isnan(percentile([], 0.5))
    assert ratio(3.0, 2.0) == 1.5
    assert math.isnan(ratio(1.0, 0.0))


def test_one_flipped_byte_is_named() -> None:
    expected = b'{"a":1}\n{"b":2}\n'
    assert problem(200, expected, expected) is None
    found = problem(200, expected.replace(b"b", b"c"), expected)
    assert found is not None and "byte 10" in found
    assert problem(200, expected[:-1], expected) is not None
    assert problem(502, expected, expected) == f"status 502: {expected!r}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A sim (10-token answers) and the router in front of it, unpinned."""
    running = Stack(Pinning(None, None, "unpinned for the test"), tmp_path_factory.mktemp("bench"))
    try:
        port = start_sim(running, "fast", TOKENS, 0.0)
        running.targets.append(Target("direct", port, port))
        running.targets.append(start_router(running, port, port))
        yield running
    finally:
        running.stop()


class CorruptingRelay:
    """A TCP relay to a backend that flips one byte of every line of the answers it passes on."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.handlers: set[asyncio.Task[None]] = set()
        self.writers: list[asyncio.StreamWriter] = []

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, corrupt: bool) -> None:
        while data := await source.read(65536):
            sink.write(data.replace(CLEAN, DIRTY) if corrupt else data)
        sink.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.handlers.add(asyncio.current_task())  # type: ignore[arg-type]
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        self.writers += [writer, up_writer]
        await asyncio.gather(
            self._pipe(reader, up_writer, False), self._pipe(up_reader, writer, True), return_exceptions=True
        )

    async def run(self, plan: Callable[[int], Plan]) -> LoadResult:
        """Serve while ``plan(port)`` runs against the relay, then close every connection."""
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        try:
            return await run_load(plan(server.sockets[0].getsockname()[1]))
        finally:
            server.close()
            for writer in self.writers:
                writer.close()
            await asyncio.gather(*self.handlers, return_exceptions=True)
            await server.wait_closed()


async def _tiny_runs(stack: Stack) -> tuple[Workload, dict[str, LoadResult], LoadResult]:
    direct = stack.targets[0]
    workload = await build_workload(direct)
    results = {}
    for target in stack.targets:
        results[target.name] = await run_load(Plan(target.fast_port, workload.fast, STREAMS, 0.3))
        results[f"{target.name} tags"] = await run_load(Plan(target.fast_port, [workload.tags], 4, 0.2))
    corrupted = await CorruptingRelay(direct.fast_port).run(lambda port: Plan(port, workload.fast, STREAMS, 0.2))
    return workload, results, corrupted


def test_tiny_scenario_is_verified_direct_and_through_the_router(stack: Stack) -> None:
    workload, results, corrupted = asyncio.run(_tiny_runs(stack))
    assert all(job.lines == TOKENS + 1 for job in workload.fast)
    for name, result in results.items():
        assert result.responses >= 4, name
        assert result.bad == 0, (name, result.problems)
        if not name.endswith("tags"):
            assert result.lines == result.responses * (TOKENS + 1), name
    assert corrupted.responses > 0
    assert corrupted.bad == corrupted.responses
    assert "body differs at byte" in corrupted.problems[0]


def test_time_to_first_line_is_measured_and_verified(stack: Stack) -> None:
    async def measure() -> LoadResult:
        workload = await build_workload(stack.targets[0])
        return await first_line_times(stack.targets[1].fast_port, workload.fast[0], 20)

    result = asyncio.run(measure())
    assert result.bad == 0 and len(result.first_lines) == 20
    assert all(0 < value < 10 for value in result.first_lines)


def test_a_bad_byte_fails_the_run_and_names_the_missed_targets() -> None:
    data = Measurements()
    for target, cpu, lateness in (("direct", math.nan, 2.0), ("nginx", 5.0, 4.0), ("router", 12.0, 20.0)):
        data.add("cpu_us_per_line", target, cpu)
        data.add("p99_lateness_ms", target, lateness)
        data.account(target, 100, 0, [])
    data.add("tags_rps", "router", 6000.0)
    data.add("ttfb_p99_ms", "router", 1.0)
    data.add("peak_rss_mib", "router", 60.0)
    lines, missed = table(data)
    assert missed == ["cpu/line", "lateness"]
    assert verdict(missed, {}) == "bench: FAIL (cpu/line; lateness)"
    data.account("router", 1, 1, ["body differs at byte 3"])
    lines, missed = table(data)
    assert "bad bytes" in missed
    assert lines[-1].endswith("| **FAIL** |")
    assert verdict([], {"router": "exited"}) == "bench: FAIL (router did not start)"
