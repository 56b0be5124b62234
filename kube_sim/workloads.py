"""What a simulated StatefulSet's pods serve: a simulated Ollama that starts when the pool wakes.

The simulator's port is reserved up front, so a model map can name the pool's URL while it still sleeps,
and the same port serves every wake, as a pool's Service keeps its address.
"""

from __future__ import annotations

import socket
from dataclasses import replace

from ollama_sim import SimConfig, SimulatedOllama


def free_port() -> int:
    """A port nobody listens on now, on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def ollama_workload(config: SimConfig) -> SimulatedOllama:
    """A simulated Ollama on a fixed port, not started (the StatefulSet starts it on a scale-up)."""
    return SimulatedOllama(config if config.port else replace(config, port=free_port()))
