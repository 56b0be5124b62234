"""Running the router for tests: real uvicorn (uvloop + httptools) on 127.0.0.1, in a background thread.

Signals are not handled in a thread, so the drain on SIGTERM is tested with ``python -m router`` as a
subprocess (``test_drain.py``).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from config.model_map import parse_model_map
from router.balancing.resolver import Resolve
from router.runtime.app import FleetApp, create_app
from router.runtime.server import FleetServer, uvicorn_config
from router.runtime.settings import RouterSettings
from router.runtime.state import FleetState
from router.telemetry.logs import JsonFormatter

WAIT = 10.0
"""Generous bound for the server to start or stop."""

GUARD = 15.0
"""Default bound of :func:`eventually`: a guard against hangs, never a timing assertion."""


class CapturedLog(logging.Handler):
    """Formats records as the router's JSON log lines at once, in the context (request) that logged them."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(json.loads(self.format(record)))

    def messages(self) -> list[str]:
        """The messages logged so far, in order."""
        return [str(record["message"]) for record in list(self.records)]


@contextmanager
def captured_log(name: str = "router") -> Iterator[CapturedLog]:
    """Capture what logger ``name`` and its children log during the block."""
    handler = CapturedLog()
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def eventually(predicate: Callable[[], object], timeout: float = GUARD) -> bool:
    """Poll ``predicate`` until it is truthy or ``timeout`` seconds pass; return whether it held."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)
    return True


@dataclass(frozen=True)
class RunningRouter:
    """A router serving on ``url``; ``state`` is its live process state."""

    url: str
    app: FleetApp

    @property
    def state(self) -> FleetState:
        """The router's process-wide state."""
        return self.app.fleet


def settings(**overrides: Any) -> RouterSettings:
    """Test settings: loopback, short timeouts, no listing cache, no probes or residency polls, no map
    watcher unless asked.

    Probes, polls and the watcher are off by default because many tests assert on exactly which requests a
    simulated backend saw; the tests of those features turn them on.
    """
    base = RouterSettings(
        model_map=Path("model-map.yaml"),
        host="127.0.0.1",
        port=0,
        connect_timeout=2.0,
        first_byte_timeout=10.0,
        idle_timeout=10.0,
        listing_timeout=2.0,
        listing_cache=0.0,
        probe_interval=0.0,
        ps_interval=0.0,
        reload_interval=0.0,
        drain_seconds=5.0,
        drain_notice_seconds=0.0,
    )
    return replace(base, **overrides)


def model_map(backends: dict[str, str], routes: dict[str, list[Any]], **extra: Any) -> dict[str, Any]:
    """A model-map document: ``backends`` name → URL, ``routes`` model → backends."""
    return {
        "backends": [{"name": name, "url": url} for name, url in backends.items()],
        "routes": [{"model": model, "backends": targets} for model, targets in routes.items()],
        **extra,
    }


@contextmanager
def running_router(
    document: dict[str, Any], resolve: Resolve | None = None, **overrides: Any
) -> Iterator[RunningRouter]:
    """Serve a router for ``document`` until the block ends (``resolve`` replaces the DNS look-up)."""
    config_settings = settings(**overrides)
    app = create_app(config_settings, parse_model_map(document), resolve)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = FleetServer(uvicorn_config(config_settings, app), app.fleet)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the router did not start"
        time.sleep(0.01)
    try:
        yield RunningRouter(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(WAIT)
        sock.close()
        assert not thread.is_alive(), "the router did not stop"
