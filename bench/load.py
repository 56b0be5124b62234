"""The load generator: concurrent keep-alive clients issuing jobs back to back, verifying every answer.

:func:`run_load` drives ``concurrency`` connections for ``duration`` seconds (a stream in progress at
the deadline is finished and counted). Client ``i`` starts after ``i * stagger`` seconds. With
``interval`` (seconds per token of a paced sim) it records each line's lateness: arrival minus when the
sim was due to write it, ``sent + min(i + 1, tokens) * interval``, which includes everything a proxy adds
on the way; only lines due between ``ramp`` seconds after the start and the deadline count, so the
ramp-up and the drain (fewer concurrent streams) do not dilute the percentiles.
:func:`first_line_times` measures time to first line with one stream at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.client import CLOCK, ClientError, Connection, Reply, connect
from bench.verify import Job, problem

GRACE_S = 60.0
"""How long after the deadline unfinished requests may take before they count as failed."""
MAX_PROBLEMS = 5


@dataclass(slots=True)
class LoadResult:
    """What one load run delivered."""

    responses: int = 0
    lines: int = 0
    elapsed: float = 0.0
    bad: int = 0
    problems: list[str] = field(default_factory=list)
    lateness: list[float] = field(default_factory=list)
    first_lines: list[float] = field(default_factory=list)

    def note(self, text: str) -> None:
        """Count a bad response and keep the first few reasons."""
        self.bad += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)


@dataclass(frozen=True, slots=True)
class Plan:
    """How to drive one target: its port, the jobs, and the shape of the load."""

    port: int
    jobs: Sequence[Job]
    concurrency: int
    duration: float
    interval: float = 0.0
    stagger: float = 0.0
    ramp: float = 0.0


def _lateness(reply: Reply, tokens: int, interval: float, window: tuple[float, float]) -> list[float]:
    """Lateness of each line of ``reply`` that was due within ``window``."""
    sent, (start, end) = reply.sent, window
    found = []
    for index, arrived in enumerate(reply.line_times):
        due = sent + min(index + 1, tokens) * interval
        if start <= due <= end:
            found.append(arrived - due)
    return found


class _Worker:
    """One client connection working through jobs until the deadline."""

    def __init__(self, plan: Plan, index: int, result: LoadResult) -> None:
        self.plan = plan
        self.index = index
        self.result = result
        self.requests = [job.request(plan.port) for job in plan.jobs]
        self.conn: Connection | None = None
        self.paced: list[tuple[Reply, int]] = []

    async def run(self, started: float, deadline: float) -> None:
        plan, result = self.plan, self.result
        await asyncio.sleep(self.index * plan.stagger)
        turn = self.index
        try:
            while CLOCK() < deadline:
                job_index = turn % len(plan.jobs)
                turn += 1
                await self._one(job_index)
        finally:
            if self.conn is not None:
                self.conn.close()
        window = (started + plan.ramp, deadline)
        for reply, tokens in self.paced:
            result.lateness.extend(_lateness(reply, tokens, plan.interval, window))

    async def _one(self, job_index: int) -> None:
        job, result = self.plan.jobs[job_index], self.result
        try:
            if self.conn is None or self.conn.closed:
                self.conn = await connect(self.plan.port)
            reply = await self.conn.request(self.requests[job_index], record_lines=self.plan.interval > 0)
        except (ClientError, OSError) as error:
            result.responses += 1
            result.note(f"{type(error).__name__}: {error}")
            self.conn = None
            await asyncio.sleep(0.01)
            return
        result.responses += 1
        why = problem(reply.status, reply.body, job.expected)
        if why is not None:
            result.note(why)
            result.lines += reply.body.count(b"\n")
            return
        result.lines += job.lines
        if self.plan.interval > 0:
            self.paced.append((reply, job.lines - 1))


async def run_load(plan: Plan) -> LoadResult:
    """Drive ``plan`` and return what was delivered; unfinished requests after the grace time are bad."""
    result = LoadResult()
    workers = [_Worker(plan, index, result) for index in range(plan.concurrency)]
    started = CLOCK()
    deadline = started + plan.duration
    tasks = [asyncio.create_task(worker.run(started, deadline)) for worker in workers]
    done, pending = await asyncio.wait(tasks, timeout=plan.duration + plan.stagger * plan.concurrency + GRACE_S)
    result.elapsed = CLOCK() - started
    for task in pending:
        task.cancel()
        result.note("a request did not finish within the grace time")
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        if task.exception() is not None:
            result.note(f"load worker failed: {task.exception()!r}")
    return result


async def first_line_times(port: int, job: Job, count: int) -> LoadResult:
    """``count`` requests one at a time on one keep-alive connection; ``first_lines`` holds each TTFB."""
    result = LoadResult()
    request = job.request(port)
    conn: Connection | None = None
    started = CLOCK()
    for _ in range(count):
        try:
            if conn is None or conn.closed:
                conn = await connect(port)
            reply = await asyncio.wait_for(conn.request(request), GRACE_S)
        except (ClientError, OSError, TimeoutError) as error:
            result.responses += 1
            result.note(f"{type(error).__name__}: {error}")
            conn = None
            continue
        result.responses += 1
        why = problem(reply.status, reply.body, job.expected)
        if why is not None:
            result.note(why)
            continue
        result.lines += job.lines
        result.first_lines.append(reply.first_line - reply.sent)
    result.elapsed = CLOCK() - started
    if conn is not None:
        conn.close()
    return result
