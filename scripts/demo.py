"""``make demo [STACK=dev]``: the whole fleet on one machine in about ten seconds.

One simulated Ollama per pool of ``Pulumi.<stack>.yaml`` (named like the pools), the model map the stack
would deploy (pointed at those simulators instead of in-cluster Services), the real router in its own
process, and the official ``ollama`` and ``openai`` clients streaming through it. Which pool served each
answer is read from the response's ``X-Fleet-Backend`` header, never from the map. The simulators need
no GPU, so any valid stack can be demonstrated; ``make demo-serve`` keeps the same fleet up to try by hand.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import ollama
import openai

from config.model_map import ModelMap
from scripts.local_fleet import load_stack, pointed_at, pool_line, running_router, running_sims

TOKEN_RATE = 40.0


def _first_choice_model(model_map: ModelMap, pool: str) -> str | None:
    """A model whose route prefers this pool alone, so the answer shows the pool it came from."""
    for route in model_map.routes:
        best = min(target.priority for target in route.backends)
        if [t.name for t in route.backends if t.priority == best] == [pool]:
            return route.model
    return None


def _openai_model(model_map: ModelMap) -> str:
    """An alias when the stack has one (the router resolves it), else the first routed model."""
    alias = next(iter(model_map.aliases), None)
    return alias.removesuffix(":latest") if alias else model_map.routes[0].model


def _stream_ollama(router_url: str, model: str) -> None:
    served: list[str] = []
    client = ollama.Client(
        host=router_url, event_hooks={"response": [lambda r: served.append(r.headers["x-fleet-backend"])]}
    )
    print(f"\nollama client  → {model}: ", end="", flush=True)
    stream = client.chat(model=model, messages=[{"role": "user", "content": "Say hello."}], stream=True)
    for part in stream:
        print(part.message.content, end="", flush=True)
    print(f"\n               served by pool {served[0]!r}")


def _embed(router_url: str, model: str) -> None:
    served: list[str] = []
    client = ollama.Client(
        host=router_url, event_hooks={"response": [lambda r: served.append(r.headers["x-fleet-backend"])]}
    )
    result = client.embed(model=model, input="GPUs of every generation")
    print(f"\nollama embed   → {model}: {len(result.embeddings[0])} dimensions, served by pool {served[0]!r}")


def _stream_openai(router_url: str, model: str) -> None:
    client = openai.OpenAI(base_url=f"{router_url}/v1", api_key="demo")
    print(f"\nopenai client  → {model}: ", end="", flush=True)
    raw = client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": "Say hello."}], stream=True
    )
    for chunk in raw.parse():
        if chunk.choices and chunk.choices[0].delta.content:
            print(chunk.choices[0].delta.content, end="", flush=True)
    print(f"\n               served by pool {raw.headers['x-fleet-backend']!r}")
    client.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; exit code 0 when every answer came back through the router."""
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", default="dev", help="the stack to simulate: Pulumi.<stack>.yaml (default dev)")
    stack = load_stack(parser.parse_args(argv).stack)
    model_map = stack.model_map
    if not model_map.routes:
        raise SystemExit(f"{stack.path.name} routes no model: give a pool ollama.models to have something to show")
    print(f"Fleet of {stack.path.name}, one simulated Ollama per pool (no GPU needed):")
    with running_sims(stack, token_rate=TOKEN_RATE, tokens=12) as urls, tempfile.TemporaryDirectory() as tmp:
        print("\n".join(pool_line(stack, name, url) for name, url in urls.items()))
        with running_router(pointed_at(model_map, urls), Path(tmp)) as (router_url, _):
            print(f"router: {router_url}")
            for pool in stack.config.pools:
                model = _first_choice_model(model_map, pool.name)
                if model is None:
                    print(f"\n(pool {pool.name!r}: no model prefers it alone, so no answer here shows it)")
                elif pool.gpu is None:
                    _embed(router_url, model)
                else:
                    _stream_ollama(router_url, model)
            _stream_openai(router_url, _openai_model(model_map))
    print("\nDone: every answer above was streamed through one router endpoint.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
