"""Fixtures: a simulated Ollama on a real 127.0.0.1 socket, and the official clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import ollama
import openai
import pytest

from ollama_sim import RunningSim, SimConfig, running_sim

MODELS = ("llama3.2:3b", "qwen2.5:7b", "nomic-embed-text:latest")
TOKENS = 8


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    """A fresh, unpaced simulator with three models and 8-token answers."""
    with running_sim(SimConfig(name="test", models=MODELS, tokens=TOKENS)) as running:
        yield running


@pytest.fixture
def client(sim: RunningSim) -> Iterator[ollama.Client]:
    """The official ``ollama`` client."""
    with ollama.Client(host=sim.url) as official:
        yield official


@pytest.fixture
def oai(sim: RunningSim) -> Iterator[openai.OpenAI]:
    """The official ``openai`` client on ``<url>/v1``, without retries so errors surface at once."""
    with openai.OpenAI(base_url=sim.url + "/v1", api_key="x", max_retries=0) as official:
        yield official


@pytest.fixture
def http(sim: RunningSim) -> Iterator[httpx.Client]:
    """A raw HTTP client for what the official clients hide (status lines, headers, bytes)."""
    with httpx.Client(base_url=sim.url, timeout=10) as raw:
        yield raw
