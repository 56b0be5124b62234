"""The workload's requests and the bytes each must produce, taken once straight from a sim.

The sims are deterministic (an answer hashes the model and the prompt; timestamps come from a fixed
clock), so the body the sim gives a direct request is exactly the body every proxy must deliver for the
same request. Any difference, a wrong status or a broken connection, makes the response bad, and a run
with a bad response is reported as failed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bench.client import build_request, connect

PROMPTS = 8
"""Distinct prompts, used in turn, so that a proxy mixing up two streams' bytes is caught."""


@dataclass(frozen=True, slots=True)
class Job:
    """One request of the workload: method, path, JSON body, and the body it must be answered with."""

    method: str
    path: str
    body: bytes
    expected: bytes

    @property
    def lines(self) -> int:
        """Complete lines in the expected answer."""
        return self.expected.count(b"\n")

    def request(self, port: int) -> bytes:
        """The raw request for a target listening on ``port``."""
        return build_request(self.method, self.path, port, self.body)


def chat_body(model: str, index: int) -> bytes:
    """The JSON body of streamed chat request number ``index`` (one of :data:`PROMPTS` prompts)."""
    messages = [{"role": "user", "content": f"benchmark prompt {index % PROMPTS}: tell me about the fleet"}]
    return json.dumps({"model": model, "messages": messages, "stream": True}, separators=(",", ":")).encode()


async def fetch(port: int, method: str, path: str, body: bytes = b"") -> bytes:
    """The body a sim on ``port`` answers, which must be 200."""
    conn = await connect(port)
    try:
        reply = await conn.request(build_request(method, path, port, body))
    finally:
        conn.close()
    if reply.status != 200:
        raise RuntimeError(f"the sim answered {method} {path} with {reply.status}: {reply.body[:200]!r}")
    return reply.body


async def chat_jobs(sim_port: int, model: str) -> list[Job]:
    """The streamed chat jobs for ``model``, each with the bytes the sim on ``sim_port`` answers."""
    jobs = []
    for index in range(PROMPTS):
        body = chat_body(model, index)
        jobs.append(Job("POST", "/api/chat", body, await fetch(sim_port, "POST", "/api/chat", body)))
    return jobs


async def tags_job(sim_port: int) -> Job:
    """``GET /api/tags`` with the sim's listing as the expected answer."""
    return Job("GET", "/api/tags", b"", await fetch(sim_port, "GET", "/api/tags"))


def problem(status: int, body: bytes, expected: bytes) -> str | None:
    """Why a response is bad (wrong status, or the first byte that differs), or None when it is exact."""
    if status != 200:
        return f"status {status}: {body[:120]!r}"
    if body == expected:
        return None
    at = next(
        (i for i, (a, b) in enumerate(zip(body, expected, strict=False)) if a != b), min(len(body), len(expected))
    )
    return (
        f"body differs at byte {at} of {len(expected)} (got {len(body)} bytes): "
        f"expected {expected[at : at + 24]!r}, got {body[at : at + 24]!r}"
    )
