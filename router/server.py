"""Running the router under uvicorn, set up for production.

One worker process (the router keeps per-process state: pools, circuits, caches; scale with replicas),
uvloop's event loop and httptools' parser (the fast pair measured in perf-baseline.md), uvicorn's own
access log off (the gate writes one JSON line per request, with the request id), no ``Server`` header
(Ollama sends none), and a keep-alive long enough for clients that reuse connections between calls.
"""

from __future__ import annotations

import logging.config

import uvicorn
from starlette.types import ASGIApp

from config.model_map import load_model_map
from router.app import create_app
from router.logs import logging_config
from router.settings import RouterSettings

KEEP_ALIVE_SECONDS = 75
"""How long an idle client connection is kept open (longer than common load-balancer idle timeouts)."""


def uvicorn_config(settings: RouterSettings, app: ASGIApp) -> uvicorn.Config:
    """The uvicorn configuration serving ``app`` as ``settings`` say."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_config=None,
        server_header=False,
        proxy_headers=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=30,
    )


def serve(settings: RouterSettings) -> None:
    """Load the model map (a bad one fails here), configure JSON logging, serve until SIGINT/SIGTERM."""
    logging.config.dictConfig(logging_config(settings.log_level))
    app = create_app(settings, load_model_map(settings.model_map))
    config = uvicorn_config(settings, app)
    logging.getLogger("router").info(
        "starting", extra={"host": settings.host, "port": settings.port, "model_map": str(settings.model_map)}
    )
    uvicorn.Server(config).run()
