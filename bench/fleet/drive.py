"""The open-loop driver: each request of the workload leaves at its time, whatever the earlier ones did.

A closed loop (a fixed number of clients) would slow down with the fleet and hide its worst moments; an
open loop keeps the offered load at the scenario's rate. Each request gets its own connection. Time to
first token is the arrival of the first NDJSON line of a streamed answer; a non-streamed answer's only
observable time is its completion. Every answer is checked byte for byte, after the run (so checking
costs the run nothing), against what a simulated replica of either pool answers to the same request:
the router must relay it exactly.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from bench.client import CLOCK, ClientError, build_request, connect
from bench.fleet.scenario import Arrival, Scenario
from ollama_sim import SimConfig
from ollama_sim.config import Faults
from ollama_sim.request import Request
from ollama_sim.routes import App
from ollama_sim.store import SimState
from ollama_sim.wire import Stream

REQUEST_TIMEOUT_S = 120.0
"""Real seconds one request may take before it counts as an error."""


@dataclass(slots=True)
class Outcome:
    """What one request got; times in simulated seconds."""

    arrival: Arrival
    status: int = 0
    body: bytes = b""
    ttft: float | None = None
    latency: float | None = None
    error: str | None = None


def request_of(arrival: Arrival) -> tuple[str, bytes]:
    """Path and body of a workload request: streamed generate, or non-streamed chat."""
    if arrival.stream:
        document: dict[str, object] = {"model": arrival.model, "prompt": f"request {arrival.index}", "stream": True}
        return "/api/generate", json.dumps(document).encode()
    message = {"role": "user", "content": f"request {arrival.index}"}
    document = {"model": arrival.model, "messages": [message], "stream": False}
    return "/api/chat", json.dumps(document).encode()


async def _one(arrival: Arrival, port: int, scale: float) -> Outcome:
    outcome = Outcome(arrival)
    path, body = request_of(arrival)
    try:
        conn = await connect(port)
    except OSError as error:
        outcome.error = f"connect: {error}"
        return outcome
    try:
        reply = await asyncio.wait_for(conn.request(build_request("POST", path, port, body)), REQUEST_TIMEOUT_S)
    except (ClientError, OSError, TimeoutError) as error:
        outcome.error = str(error) or type(error).__name__
        return outcome
    finally:
        conn.close()
    outcome.status, outcome.body = reply.status, reply.body
    outcome.latency = (CLOCK() - reply.sent) / scale
    if arrival.stream and reply.first_line:
        outcome.ttft = (reply.first_line - reply.sent) / scale
    return outcome


async def drive(scenario: Scenario, arrivals: list[Arrival], port: int) -> list[Outcome]:
    """Send every arrival at its (scaled) time through the router on ``port``; their outcomes, in order."""
    started = CLOCK()
    tasks: list[asyncio.Task[Outcome]] = []
    for arrival in arrivals:
        delay = started + arrival.at * scenario.scale - CLOCK()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_one(arrival, port, scenario.scale)))
    return list(await asyncio.gather(*tasks))


class Expected:
    """The exact answers a replica of each pool gives (answers are deterministic; pools differ in pace)."""

    def __init__(self, configs: list[SimConfig]) -> None:
        self.apps = [App(config, Faults(), SimState(config.models)) for config in configs]

    def bodies(self, arrival: Arrival) -> set[bytes]:
        """Every body the request may rightly get."""
        path, body = request_of(arrival)
        found = set()
        for app in self.apps:
            request = Request("POST", path, "", {"host": "localhost"}, body)
            response = app.handle(request)
            found.add(b"".join(response.lines) if isinstance(response, Stream) else response.body)
        return found


def check(outcomes: list[Outcome], expected: Expected) -> None:
    """Mark every 200 answer whose bytes match no replica's as an error (naming the first differing byte)."""
    for outcome in outcomes:
        if outcome.error is not None:
            continue
        if outcome.status != 200:
            outcome.error = f"status {outcome.status}: {outcome.body[:200]!r}"
            continue
        bodies = expected.bodies(outcome.arrival)
        if outcome.body not in bodies:
            reference = min(bodies, key=len)
            at = next((i for i, (a, b) in enumerate(zip(outcome.body, reference, strict=False)) if a != b), None)
            outcome.error = f"bytes differ from the replica's answer at byte {at if at is not None else len(reference)}"
