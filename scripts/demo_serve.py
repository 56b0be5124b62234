"""``make demo-serve [STACK=dev]``: keep a stack's fleet running on this machine until Ctrl-C, to try by hand.

One simulated Ollama per pool and the real router, all on 127.0.0.1: the router on 11434 (Ollama's own
port, so clients that default to it need no setting) or, when that port is taken, on a free one it names;
the simulators from 11435 up. It prints commands that work as printed, from this directory: ``curl`` on
the native API, the official ``ollama`` and ``openai`` Python clients, and the fleet's status. Ctrl-C (or
SIGTERM) stops the router and the simulators and waits for them; nothing is left running.
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from config.model_map import ModelMap
from scripts.local_fleet import (
    ROOT,
    LocalStack,
    load_stack,
    pointed_at,
    pool_line,
    port_to_use,
    running_router,
    running_sims,
)

ROUTER_PORT = 11434
TOKEN_RATE = 20.0
TOKENS = 24
PROMPT = "Say hello."
READY = "Ready: Ctrl-C stops the router and every simulated pool."


def _chat_model(stack: LocalStack) -> str:
    """The model the printed commands ask: one a GPU pool serves first, else the first routed model."""
    gpu_pools = {pool.name for pool in stack.config.pools if pool.gpu is not None}
    for route in stack.model_map.routes:
        if route.backends[0].name in gpu_pools:
            return route.model
    return stack.model_map.routes[0].model


def _openai_model(model_map: ModelMap, fallback: str) -> str:
    alias = next(iter(model_map.aliases), None)
    return alias.removesuffix(":latest") if alias else fallback


def commands(url: str, model: str, openai_model: str, key: str | None) -> list[str]:
    """Shell commands that talk to the router at ``url``, each a block that starts with a ``#`` comment."""
    messages = [{"role": "user", "content": PROMPT}]
    body = json.dumps({"model": model, "messages": messages})
    auth = f" -H {shlex.quote(f'Authorization: Bearer {key}')}" if key else ""
    headers = f", headers={{'Authorization': {f'Bearer {key}'!r}}}" if key else ""
    status_key = f" --key {shlex.quote(key)}" if key else ""
    return [
        "# stream a chat answer, one JSON line per token (add -i to see X-Fleet-Backend, the pool that answered)\n"
        f"curl -sN{auth} {url}/api/chat -d {shlex.quote(body)}",
        "# the official ollama Python client\n"
        ".venv/bin/python - <<'EOF'\n"
        "import ollama\n"
        f"client = ollama.Client(host={url!r}{headers})\n"
        f"for part in client.chat(model={model!r}, messages={messages!r}, stream=True):\n"
        "    print(part.message.content, end='', flush=True)\n"
        "print()\n"
        "EOF",
        "# the official openai Python client, on the router's OpenAI-compatible /v1\n"
        ".venv/bin/python - <<'EOF'\n"
        "from openai import OpenAI\n"
        f"client = OpenAI(base_url={url + '/v1'!r}, api_key={key or 'ollama'!r})\n"
        f"stream = client.chat.completions.create(model={openai_model!r}, messages={messages!r}, stream=True)\n"
        "for chunk in stream:\n"
        "    if chunk.choices:\n"
        "        print(chunk.choices[0].delta.content or '', end='', flush=True)\n"
        "print()\n"
        "EOF",
        "# the fleet's state: backends, health, circuits, load, the model map (JSON, then as tables)\n"
        f"curl -s -w '\\n'{auth} {url}/fleet/status\n"
        f".venv/bin/python -m router status {url}{status_key}",
    ]


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve(stack: LocalStack, port: int, key: str | None) -> int:
    """Run the fleet until interrupted; 0 after Ctrl-C, 1 if the router stopped on its own."""
    chosen = port_to_use(port) if port else port_to_use(0)
    print(f"Fleet of {stack.path.name}, one simulated Ollama per pool (no GPU needed):")
    workdir = ROOT / "build" / "demo" / stack.path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    workdir.mkdir(parents=True, exist_ok=True)
    first_sim_port = chosen + 1 if port else 0
    with running_sims(stack, token_rate=TOKEN_RATE, tokens=TOKENS, first_port=first_sim_port) as urls:
        print("\n".join(pool_line(stack, name, url) for name, url in urls.items()))
        with running_router(pointed_at(stack.model_map, urls), workdir, port=chosen, api_key=key) as (url, process):
            taken = f" (port {port} is in use, so it took {chosen})" if port and chosen != port else ""
            print(f"router: {url}{taken}")
            print(
                f"  its model map and JSON log: {(workdir / 'model-map.json').relative_to(ROOT)}, "
                f"{(workdir / 'router.log').relative_to(ROOT)}"
            )
            chat = _chat_model(stack)
            print("\nTry it from another terminal, in this directory:\n")
            print("\n\n".join(commands(url, chat, _openai_model(stack.model_map, chat), key)))
            print(f"\n{READY}", flush=True)
            code = process.wait()
            print(f"the router stopped on its own (exit code {code}); see {workdir / 'router.log'}", file=sys.stderr)
            return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, then serve until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="make demo-serve", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stack", default="dev", help="the stack to simulate: Pulumi.<stack>.yaml (default dev)")
    parser.add_argument(
        "--port", type=int, default=ROUTER_PORT, help=f"the router's port if free (default {ROUTER_PORT}; 0: any)"
    )
    parser.add_argument("--key", help="require this API key, as a deployed router does (default: no key)")
    args = parser.parse_args(argv)
    stack = load_stack(args.stack)
    if not stack.model_map.routes:
        raise SystemExit(f"{stack.path.name} routes no model: give a pool ollama.models to have something to try")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        return serve(stack, args.port, args.key)
    except KeyboardInterrupt:
        print("\nStopped: the router and the simulated pools are down.", flush=True)
        return 0


if __name__ == "__main__":
    sys.exit(main())
