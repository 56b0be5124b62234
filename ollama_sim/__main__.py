"""``python -m ollama_sim``: serve one simulated Ollama until SIGINT or SIGTERM.

Prints one line ending in its URL once it listens, e.g. ``simulated ollama t4 ready at http://127.0.0.1:11435``,
so scripts can wait for that line and take its last word.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence

from ollama_sim.config import SimConfig
from ollama_sim.loops import new_event_loop
from ollama_sim.simulator import SimulatedOllama


def parse_config(argv: Sequence[str] | None = None) -> SimConfig:
    """The :class:`SimConfig` the command line asks for."""
    defaults = SimConfig()
    parser = argparse.ArgumentParser(prog="python -m ollama_sim", description=__doc__.splitlines()[0])
    parser.add_argument("--name", default=defaults.name, help="label shown in the ready line")
    parser.add_argument("--host", default=defaults.host, help="address to listen on")
    parser.add_argument("--port", type=int, default=11434, help="port to listen on (0 picks a free one)")
    parser.add_argument("--models", default=",".join(defaults.models), help="comma-separated model names")
    parser.add_argument("--token-rate", type=float, default=defaults.token_rate, help="tokens/s per stream; 0: unpaced")
    parser.add_argument("--tokens", type=int, default=defaults.tokens, help="answer length in tokens")
    parser.add_argument("--version", default=defaults.version, help="what /api/version reports")
    parser.add_argument("--no-record", action="store_true", help="do not keep a log of requests (long runs)")
    args = parser.parse_args(argv)
    models = tuple(model.strip() for model in args.models.split(",") if model.strip())
    return SimConfig(
        name=args.name,
        models=models,
        version=args.version,
        token_rate=args.token_rate,
        tokens=args.tokens,
        host=args.host,
        port=args.port,
        record_requests=not args.no_record,
    )


async def serve(config: SimConfig) -> None:
    """Listen, announce the URL, and wait for SIGINT/SIGTERM."""
    server = SimulatedOllama(config)
    await server.start()
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, done.set)
    print(f"simulated ollama {config.name} ready at {server.url}", flush=True)
    try:
        await done.wait()
    finally:
        await server.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator; exit status 1 when it cannot listen."""
    config = parse_config(argv)
    loop = new_event_loop()
    try:
        loop.run_until_complete(serve(config))
    except OSError as error:
        print(f"simulated ollama {config.name}: cannot listen on {config.host}:{config.port}: {error}", file=sys.stderr)
        return 1
    finally:
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
