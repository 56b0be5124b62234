"""The fleet benchmark's harness: a tiny scenario through the real router gives a well-formed table, and
every answer is checked byte for byte (a flipped byte is caught). No timing is asserted."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.fleet.drive import Expected, Outcome, check
from bench.fleet.fleet import sim_config
from bench.fleet.report import COLUMNS, HEADER
from bench.fleet.run import run
from bench.fleet.scenario import TINY
from bench.procs import Pinning
from ollama_sim.loops import new_event_loop

POLICIES = ("least-outstanding", "warm-first")


def _rows(report: str) -> list[list[str]]:
    lines = report.splitlines()
    start = lines.index(HEADER)
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_a_tiny_run_gives_one_row_per_policy_and_the_bound_with_every_answer_exact(tmp_path: Path) -> None:
    loop = new_event_loop()
    try:
        report = loop.run_until_complete(
            asyncio.wait_for(run(TINY, tmp_path, Pinning(None, None, "unpinned"), POLICIES), 120)
        )
    finally:
        loop.close()
    rows = _rows(report)
    assert [row[0] for row in rows] == [f"`{policy}`" for policy in POLICIES] + ["clairvoyant bound"]
    assert all(len(row) == COLUMNS for row in rows)
    requests = len(TINY.arrivals())
    for row in rows[:-1]:
        assert int(row[1]) == requests
        assert (int(row[2]), int(row[3])) == (requests, 0), "every answer 200 and byte-identical to a replica's"
        assert int(row[4]) >= 2, "both models were loaded at least once"
    assert rows[-1][4] == "2", "the bound loads each requested model once"
    assert "|---|" in report and "Targets" in report


def test_one_flipped_byte_in_an_answer_is_an_error_naming_it() -> None:
    expected = Expected([sim_config(TINY, 0, "127.0.0.1", 0)])
    arrivals = TINY.arrivals()[:2]
    good = [Outcome(arrival, 200, min(expected.bodies(arrival))) for arrival in arrivals]
    body = bytearray(good[1].body)
    body[20] ^= 0x20
    outcomes = [good[0], Outcome(arrivals[1], 200, bytes(body)), Outcome(arrivals[0], 503, b"{}")]
    check(outcomes, expected)
    assert outcomes[0].error is None
    assert outcomes[1].error is not None and "byte 20" in outcomes[1].error
    assert outcomes[2].error is not None and outcomes[2].error.startswith("status 503")


def test_the_workload_is_the_same_for_every_policy() -> None:
    first, second = TINY.arrivals(), TINY.arrivals()
    assert first == second and len(first) > 20
    assert {arrival.model for arrival in first} == set(TINY.models)
    assert any(arrival.stream for arrival in first) and not all(arrival.stream for arrival in first)
