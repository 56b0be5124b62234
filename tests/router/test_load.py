"""Hundreds of concurrent paced streams across two backends, every byte checked against the backend's own.

300 streams × 50 tokens at 50 tokens/s (the pace of a GPU answering), spread by the router over two
simulated backends serving the same model. Each answer is compared byte for byte with what the backend
that served it (``X-Fleet-Backend``) answers to the same request directly. The figures (streams,
lines, errors, byte mismatches, streams per backend) are written to ``build/loadtest.json`` so they are
visible without ``-s``, and the test fails on any error or mismatch.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from ollama_sim import RunningSim, SimConfig, running_sim
from tests.router.harness import model_map, running_router
from tests.router.rawhttp import Fetched, fetch

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "build" / "loadtest.json"
STREAMS = 300
TOKENS = 50
RATE = 50.0
PROMPTS = 30
MODEL = "llama3.2:3b"
BOUND = 120.0
"""Generous bound for the whole run (it takes a few seconds)."""


def _body(index: int) -> bytes:
    message = {"role": "user", "content": f"story number {index % PROMPTS}"}
    return json.dumps({"model": MODEL, "messages": [message]}).encode()


async def _run(router_url: str, sims: dict[str, RunningSim]) -> dict[str, object]:
    started = time.monotonic()
    results = await asyncio.gather(
        *(fetch(router_url, "/api/chat", _body(i)) for i in range(STREAMS)), return_exceptions=True
    )
    seconds = time.monotonic() - started
    pairs = sorted(
        {(i % PROMPTS, r.headers.get("x-fleet-backend", "")) for i, r in enumerate(results) if isinstance(r, Fetched)}
    )
    direct = await asyncio.gather(*(fetch(sims[name].url, "/api/chat", _body(p)) for p, name in pairs if name in sims))
    expected = {pair: bytes(answer.body) for pair, answer in zip(pairs, direct, strict=False)}
    errors: list[str] = []
    mismatches = 0
    lines = 0
    served: dict[str, int] = {}
    for index, result in enumerate(results):
        if not isinstance(result, Fetched):
            errors.append(f"stream {index}: {result!r}")
            continue
        backend = result.headers.get("x-fleet-backend", "")
        served[backend] = served.get(backend, 0) + 1
        lines += result.body.count(b"\n")
        if result.status != 200 or not result.complete or b'"error"' in result.body:
            errors.append(f"stream {index}: status {result.status}, complete {result.complete}")
        if bytes(result.body) != expected.get((index % PROMPTS, backend)):
            mismatches += 1
    return {
        "streams": STREAMS,
        "tokens_per_stream": TOKENS,
        "token_rate": RATE,
        "lines": lines,
        "errors": len(errors),
        "error_samples": errors[:5],
        "byte_mismatches": mismatches,
        "streams_per_backend": served,
        "seconds": round(seconds, 2),
    }


def test_hundreds_of_paced_streams_arrive_byte_for_byte() -> None:
    config = SimConfig(models=(MODEL,), token_rate=RATE, tokens=TOKENS, record_requests=False)
    with (
        running_sim(config, name="a") as first,
        running_sim(config, name="b") as second,
        running_router(
            model_map(
                {"a": first.url, "b": second.url},
                {MODEL: [{"name": "a", "priority": 0}, {"name": "b", "priority": 0}]},
            )
        ) as router,
    ):

        async def bounded() -> dict[str, object]:
            async with asyncio.timeout(BOUND):
                return await _run(router.url, {"a": first, "b": second})

        report = asyncio.run(bounded())
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    assert report["errors"] == 0, report["error_samples"]
    assert report["byte_mismatches"] == 0, report
    assert report["lines"] == STREAMS * (TOKENS + 1), "every token line and the final done line"
    served = report["streams_per_backend"]
    assert isinstance(served, dict) and set(served) == {"a", "b"}, "both backends share the load"
