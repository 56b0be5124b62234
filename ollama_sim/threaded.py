"""A simulator on its own thread and event loop, for synchronous tests and scripts.

Usage::

    with running_sim(SimConfig(name="t4", models=("llama3.2:3b",))) as sim:
        ollama.Client(host=sim.url).list()
        sim.faults.status = 503        # read on every request
        sim.stop(); sim.start()        # a killed and restarted backend, same port

Leaving the ``with`` block closes the listener, every connection, the loop and the thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TypeVar

from ollama_sim.config import Faults, SimConfig
from ollama_sim.loops import new_event_loop
from ollama_sim.observe import Observations
from ollama_sim.simulator import SimulatedOllama
from ollama_sim.store import SimState

T = TypeVar("T")
CALL_TIMEOUT_S = 10.0


class RunningSim:
    """A :class:`SimulatedOllama` driven from another thread (what :func:`running_sim` yields)."""

    def __init__(self, config: SimConfig) -> None:
        self.server = SimulatedOllama(config)
        self._loop = new_event_loop()
        self._thread = threading.Thread(target=self._run, name=f"sim-{config.name}", daemon=True)
        self._closed = False
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(CALL_TIMEOUT_S)

    @property
    def config(self) -> SimConfig:
        """The configuration it runs with."""
        return self.server.config

    @property
    def url(self) -> str:
        """Base URL, ``http://127.0.0.1:<port>``."""
        return self.server.url

    @property
    def port(self) -> int:
        """The listening port."""
        return self.server.port

    @property
    def observed(self) -> Observations:
        """Requests seen and stream outcomes."""
        return self.server.observed

    @property
    def faults(self) -> Faults:
        """Failures to inject (mutable, read on every request)."""
        return self.server.faults

    @property
    def open_connections(self) -> int:
        """Client connections open right now (see :attr:`SimulatedOllama.open_connections`)."""
        return self.server.open_connections

    @property
    def state(self) -> SimState:
        """Installed models, blobs and loaded models (read it, don't change it, while requests run)."""
        return self.server.state

    def start(self) -> None:
        """Listen again on the same port (no-op if listening)."""
        self._call(self.server.start())

    def stop(self) -> None:
        """Stop listening and drop all connections, like a killed backend."""
        self._call(self.server.stop())

    def close(self) -> None:
        """Stop the server, then the loop and the thread; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self._call(self.server.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(CALL_TIMEOUT_S)
            self._loop.close()


@contextmanager
def running_sim(config: SimConfig | None = None, **changes: Any) -> Iterator[RunningSim]:
    """Run a simulator in a background thread for the ``with`` block; ``changes`` override ``config``."""
    sim = RunningSim(replace(config if config is not None else SimConfig(), **changes))
    try:
        sim.start()
        yield sim
    finally:
        sim.close()
