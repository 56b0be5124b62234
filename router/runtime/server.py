"""Running the router under uvicorn, set up for production, with a graceful drain on SIGTERM.

One worker process (the router keeps per-process state: pools, circuits, caches; scale with replicas),
uvloop's event loop and httptools' parser (the fastest pair measured for a streaming proxy on a 2-core
machine), uvicorn's own access log off (the gate writes one JSON line per request, with the request id),
no ``Server`` header (Ollama sends none), and an idle keep-alive (``FLEET_KEEPALIVE``) longer than that of
the load balancer in front, so the balancer never reuses a connection the router is closing. Connections
are read under deadlines and a cap (:mod:`router.runtime.connections`), and the open-files limit is raised
to fit the cap before the first one is accepted.

Draining (:class:`FleetServer`): uvicorn alone stops listening as soon as a signal arrives, and re-raises
the signal once it has stopped, so the process would die "killed by SIGTERM". Instead, the first SIGTERM
(or SIGINT) makes ``/readyz`` answer 503 at once while the router keeps accepting and serving for
``FLEET_DRAIN_NOTICE_SECONDS`` (load balancers take a few probes to notice); then uvicorn's own shutdown
runs: the listener closes, idle connections close, and requests in flight are awaited until
``FLEET_DRAIN_SECONDS`` after the signal (uvicorn's ``timeout_graceful_shutdown``). Whatever still runs
then is cancelled (a stream ends with its final error line), the lifespan closes the background tasks
and the connections, and the process exits 0. A second signal skips the wait.
"""

from __future__ import annotations

import gc
import logging.config
import math
import signal
import time
from types import FrameType

import uvicorn
from starlette.types import ASGIApp

from router.runtime.app import FleetApp, create_app
from router.runtime.connections import fit_open_files, guarded_protocol
from router.runtime.reload import load_router_map
from router.runtime.settings import RouterSettings
from router.runtime.state import FleetState
from router.telemetry.logs import logging_config, quiet_record_fields

logger = logging.getLogger("router")


def uvicorn_config(settings: RouterSettings, app: ASGIApp) -> uvicorn.Config:
    """The uvicorn configuration serving ``app`` as ``settings`` say."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http=guarded_protocol(settings),
        lifespan="on",
        access_log=False,
        log_config=None,
        server_header=False,
        proxy_headers=False,
        timeout_keep_alive=settings.keepalive,
        timeout_graceful_shutdown=max(1, math.ceil(settings.drain_seconds - settings.drain_notice_seconds)),
    )


class FleetServer(uvicorn.Server):
    """uvicorn's server with the router's drain: unready first, then stop listening, then wait, exit 0."""

    def __init__(self, config: uvicorn.Config, state: FleetState) -> None:
        super().__init__(config)
        self.state = state
        self.drain_started: float | None = None
        self.drain_signal: str | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """First signal: start draining. A second: stop waiting for requests in flight.

        This runs inside a signal handler, so it only sets attributes; :meth:`on_tick` does the rest.
        """
        if self.drain_started is not None:
            self.should_exit = True
            self.force_exit = True
            return
        self.drain_signal = signal.Signals(sig).name
        self.drain_started = time.monotonic()
        self.state.draining = True

    async def on_tick(self, counter: int) -> bool:
        """Log the start of a drain once; when its notice period is over, let uvicorn's shutdown begin."""
        started = self.drain_started
        if started is not None and self.drain_signal is not None:
            settings = self.state.settings
            extra = {"notice_seconds": settings.drain_notice_seconds, "drain_seconds": settings.drain_seconds}
            logger.info("draining", extra={"signal": self.drain_signal, **extra})
            self.drain_signal = None
        if started is not None and time.monotonic() - started >= self.state.settings.drain_notice_seconds:
            self.should_exit = True
        return await super().on_tick(counter)


def settle_heap() -> None:
    """After start-up: collect once, then move what exists to the permanent generation.

    The frozen objects (modules, the app, the model map) are never scanned again, so a collection of
    the oldest generation during hundreds of live streams walks only what the streams made, not the
    whole process. Python's default thresholds stay: raising the youngest generation's (10 000, 50 000
    measured) made each young collection pause streams for milliseconds, which hurt p99 lateness more
    than the rarer collections saved.
    """
    gc.collect()
    gc.freeze()


def serve(settings: RouterSettings) -> None:
    """Load the model map (a bad one fails here), configure JSON logging, serve until drained."""
    logging.config.dictConfig(logging_config(settings.log_level))
    open_files = fit_open_files(settings.max_connections)
    app: FleetApp = create_app(settings, load_router_map(settings.model_map))
    server = FleetServer(uvicorn_config(settings, app), app.fleet)
    quiet_record_fields()
    settle_heap()
    logger.info(
        "starting",
        extra={
            "host": settings.host,
            "port": settings.port,
            "model_map": str(settings.model_map),
            "model_map_version": app.fleet.table.version,
            "max_connections": settings.max_connections,
            "open_files_limit": open_files,
        },
    )
    server.run()
    logger.info("stopped")
