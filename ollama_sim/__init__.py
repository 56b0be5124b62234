"""A simulated Ollama: a test double of one Ollama server, faithful to Ollama's wire contract, never a
replacement for it (https://github.com/ollama/ollama/blob/main/docs/api.md).

It lives outside the router package and imports nothing of it (only ``config``); the router image does not
carry it. It speaks Ollama's wire contract: the native ``/api`` routes, the OpenAI ``/v1`` routes,
Anthropic's ``/v1/messages``, gin's 404/405, the Host check, NDJSON and SSE streams, error texts and status
codes, with deterministic bytes (answers hash the model and prompt; timestamps come from a fixed clock).
Tests, ``make demo`` and ``make bench`` run it in place of GPU backends. It is built for the benchmark's
hot path: raw asyncio protocols, httptools parsing, uvloop, one write per streamed line, no per-line JSON.

Public interface::

    from ollama_sim import SimConfig, SimulatedOllama, running_sim, Faults

    with running_sim(SimConfig(name="t4", models=("llama3.2:3b",), token_rate=50)) as sim:
        sim.url, sim.port, sim.observed, sim.faults, sim.stop(), sim.start()

    server = SimulatedOllama(cfg); await server.start(); ...; await server.close()

Command line: ``python -m ollama_sim --name t4 --port 11435 --models llama3.2:3b,qwen2.5:7b``.
"""

from __future__ import annotations

from ollama_sim.config import Faults, SimConfig
from ollama_sim.observe import Observations, ObservedRequest
from ollama_sim.simulator import SimulatedOllama
from ollama_sim.threaded import RunningSim, running_sim

__all__ = [
    "Faults",
    "ObservedRequest",
    "Observations",
    "RunningSim",
    "SimConfig",
    "SimulatedOllama",
    "running_sim",
]
