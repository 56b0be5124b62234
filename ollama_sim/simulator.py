"""The simulated Ollama server object for use inside a running event loop.

Usage::

    server = SimulatedOllama(SimConfig(models=("llama3.2:3b",)))
    await server.start()
    ...  # talk to server.url
    await server.close()

``stop()`` then ``start()`` is a killed and restarted backend: the listener closes and every connection is
dropped, installed models survive, loaded models do not, and it listens again on the same port.
"""

from __future__ import annotations

import asyncio
import ipaddress
from types import TracebackType

from ollama_sim.config import Faults, SimConfig
from ollama_sim.observe import Observations
from ollama_sim.protocol import Connection, Context
from ollama_sim.routes import App
from ollama_sim.store import SimState


def _url_host(host: str) -> str:
    """The host to put in a URL: unspecified addresses become loopback, IPv6 gets brackets."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.is_unspecified:
        return "127.0.0.1" if address.version == 4 else "[::1]"
    return f"[{host}]" if address.version == 6 else host


class SimulatedOllama:
    """A fast, deterministic stand-in for one Ollama server (see the package docstring).

    Attributes:
        config: its fixed identity and pace.
        faults: failures to inject, read on every request.
        observed: what it has seen.
        state: installed models, blobs and loaded models.
    """

    def __init__(
        self, config: SimConfig | None = None, *, faults: Faults | None = None, observed: Observations | None = None
    ) -> None:
        self.config = config if config is not None else SimConfig()
        self.faults = faults if faults is not None else Faults()
        self.observed = observed if observed is not None else Observations()
        self.state = SimState(self.config.models)
        self.app = App(self.config, self.faults, self.state)
        self._port = self.config.port
        self._server: asyncio.Server | None = None
        self._connections: set[Connection] = set()

    @property
    def port(self) -> int:
        """The listening port (the one picked on first start when configured as 0)."""
        return self._port

    @property
    def url(self) -> str:
        """Base URL for clients: ``http://127.0.0.1:<port>`` (``https://`` when it serves TLS)."""
        scheme = "https" if self.config.tls is not None else "http"
        return f"{scheme}://{_url_host(self.config.host)}:{self._port}"

    @property
    def open_connections(self) -> int:
        """Client connections open right now: how a test sees a proxy hang up before any answer."""
        return len(self._connections)

    @property
    def serving(self) -> bool:
        """Whether it is listening now."""
        return self._server is not None

    async def start(self) -> None:
        """Listen (again) on the configured, or previously picked, port; no-op if already listening."""
        if self._server is not None:
            return
        rate = self.config.token_rate
        context = Context(
            app=self.app,
            faults=self.faults,
            observed=self.observed,
            interval=1.0 / rate if rate > 0 else 0.0,
            record=self.config.record_requests,
            connections=self._connections,
        )
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: Connection(context),
            self.config.host,
            self._port,
            reuse_address=True,
            backlog=1024,
            ssl=self.config.tls,
        )
        if self._port == 0:
            self._port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening and drop every connection, like a killed backend; no-op if stopped."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for connection in list(self._connections):
            connection.kill()
        await server.wait_closed()
        for _ in range(3):
            await asyncio.sleep(0)
        self.state.restart()
        if self.app.scheduler is not None:
            self.app.scheduler.reset()

    async def close(self) -> None:
        """Stop for good (same as :meth:`stop`; the object may still be started again)."""
        await self.stop()

    async def __aenter__(self) -> SimulatedOllama:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()
