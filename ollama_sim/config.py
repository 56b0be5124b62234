"""What one simulated Ollama is (:class:`SimConfig`) and how it misbehaves on demand (:class:`Faults`)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from config.model_names import parse_model_name
from ollama_sim.scheduler import SchedulerConfig


@dataclass(frozen=True, slots=True)
class SimConfig:
    """The fixed identity and pace of one simulated Ollama backend.

    Attributes:
        name: a label for logs and the CLI banner (e.g. the GPU type it stands for).
        models: model names it has pulled at start, newest first in ``/api/tags``.
        version: what ``/api/version`` reports (numeric, as Open WebUI parses it).
        token_rate: tokens per second per stream; 0 streams as fast as the socket takes them.
        tokens: answer length in tokens, i.e. NDJSON lines before the final ``done`` line.
        host: address to listen on; a loopback address turns on Ollama's Host check.
        port: port to listen on; 0 picks a free one, kept across ``stop``/``start``.
        embedding_length: dimensions of the vectors ``/api/embed`` returns.
        record_requests: keep every request in ``observed.requests`` (turn off for long benchmarks).
        scheduler: simulate Ollama's model scheduler (loads, slots, evictions); None answers at once.
        tls: serve HTTPS with this server context, as a TLS-terminating reverse proxy in front of a rig's
            Ollama would (Ollama itself serves plain HTTP).
        token: answer 401 unless a request carries ``Authorization: Bearer <token>``, as such a proxy
            checking a bearer token would (Ollama itself has no authentication).
    """

    name: str = "sim"
    models: tuple[str, ...] = ("llama3.2:3b",)
    version: str = "0.32.15"
    token_rate: float = 0.0
    tokens: int = 100
    host: str = "127.0.0.1"
    port: int = 0
    embedding_length: int = 64
    record_requests: bool = True
    scheduler: SchedulerConfig | None = None
    tls: ssl.SSLContext | None = None
    token: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", tuple(self.models))
        for model in self.models:
            parse_model_name(model)
        if self.token_rate < 0:
            raise ValueError(f"token_rate must be >= 0, got {self.token_rate}")
        if self.tokens < 0:
            raise ValueError(f"tokens must be >= 0, got {self.tokens}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be 0..65535, got {self.port}")
        if self.embedding_length < 1:
            raise ValueError(f"embedding_length must be >= 1, got {self.embedding_length}")


@dataclass(slots=True)
class Faults:
    """Failures to inject; the simulator reads these on every request, so tests may flip them at any time.

    Attributes:
        fail_after_lines: abort the TCP connection after this many lines (or SSE events) of a stream.
        status: answer every ``/api/*`` and ``/v1/*`` request with this status and Ollama's error JSON.
        first_byte_delay: seconds to wait before sending the response headers.
        hang: read requests but never answer them.
    """

    fail_after_lines: int | None = None
    status: int | None = None
    first_byte_delay: float = 0.0
    hang: bool = False

    def clear(self) -> None:
        """Back to a healthy backend."""
        self.fail_after_lines = None
        self.status = None
        self.first_byte_delay = 0.0
        self.hang = False
