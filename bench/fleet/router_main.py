"""``python -m bench.fleet.router_main``: the real router, with replica addresses given instead of looked up.

In a cluster a pool's headless Service resolves to one address per pod. On one machine the simulated
pods of a pool listen on the same port at different loopback addresses (127.0.0.2, 127.0.0.3 ...), which
no name resolves to; ``FLEET_BENCH_REPLICAS`` (JSON: ``{"localhost:PORT": ["127.0.0.2", ...]}``) gives the
addresses the router's resolver hook returns. Everything else is ``python -m router`` as deployed.
"""

from __future__ import annotations

import json
import logging.config
import os
import sys

from router.runtime.app import create_app
from router.runtime.reload import load_router_map
from router.runtime.server import FleetServer, uvicorn_config
from router.runtime.settings import load_settings
from router.telemetry.logs import logging_config


def main() -> int:
    """Serve until SIGTERM with the addresses of ``FLEET_BENCH_REPLICAS``."""
    replicas: dict[str, list[str]] = json.loads(os.environ["FLEET_BENCH_REPLICAS"])

    async def resolve(host: str, port: int) -> list[str]:
        return replicas.get(f"{host}:{port}", [])

    settings = load_settings(sys.argv[1:])
    logging.config.dictConfig(logging_config(settings.log_level))
    app = create_app(settings, load_router_map(settings.model_map), resolve)
    FleetServer(uvicorn_config(settings, app), app.fleet).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
