"""``make demo [STACK=dev]``: the whole fleet on one machine in about ten seconds.

One simulated Ollama per pool of ``Pulumi.<stack>.yaml`` (named like the pools), the model map the stack
would deploy (pointed at those simulators instead of in-cluster Services), the real router in its own
process, and the official ``ollama`` and ``openai`` clients streaming through it. Which pool served each
answer is read from the response's ``X-Fleet-Backend`` header, never from the map. The simulators need
no GPU, so any valid stack can be demonstrated; ``make demo-serve`` keeps the same fleet up to try by hand.

A pool with ``scaleToZero`` starts asleep: its simulator is the pods of a StatefulSet at 0 replicas in a
Kubernetes API double (``kube_sim``), which the router reaches through a kubeconfig. The first request for
its model wakes it, waits while it comes up, and the demo shows how long that took.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import ollama
import openai

from config.model_map import ModelMap
from config.scaling import BackendScale
from kube_sim import RunningKubeSim, running_kube_sim
from scripts.local_fleet import load_stack, pointed_at, pool_line, running_router, running_sims

TOKEN_RATE = 40.0
WAKE_DELAY_S = 1.5
"""How long a sleeping pool's simulated pods take to be ready: a GPU node, its driver and Ollama, compressed."""


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


def _wake(router_url: str, model: str, kube: RunningKubeSim, scale: BackendScale) -> None:
    """Ask a sleeping pool's model: the router wakes the pool, holds the request, then streams the answer."""
    target = kube.statefulset(scale.namespace, scale.statefulset)
    print(f"\npool asleep    → StatefulSet {scale.statefulset} at {target.replicas} replicas (scaleToZero)")
    started = time.monotonic()
    _stream_ollama(router_url, model)
    took = time.monotonic() - started
    writes = [replicas for _, name, replicas in kube.state.scaled if name == scale.statefulset]
    status = httpx.get(f"{router_url}/fleet/status", timeout=5).json()["scaling"]
    state = next(item["state"] for item in status if item["statefulset"].endswith(f"/{scale.statefulset}"))
    print(f"               woke in {took:.1f} s: scale calls {writes}, the request held until the pool answered;")
    print(f"               now {state}, back to sleep after {scale.idle_after_s:g} s without requests")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; exit code 0 when every answer came back through the router."""
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", default="dev", help="the stack to simulate: Pulumi.<stack>.yaml (default dev)")
    stack = load_stack(parser.parse_args(argv).stack)
    model_map = stack.model_map
    if not model_map.routes:
        raise SystemExit(f"{stack.path.name} routes no model: give a pool ollama.models to have something to show")
    print(f"Fleet of {stack.path.name}, one simulated Ollama per pool (no GPU needed):")
    scales = {backend.name: backend.scale for backend in model_map.backends}
    with (
        running_kube_sim() as kube,
        running_sims(stack, token_rate=TOKEN_RATE, tokens=12, kube=kube, wake_delay_s=WAKE_DELAY_S) as urls,
        tempfile.TemporaryDirectory() as tmp,
    ):
        print("\n".join(pool_line(stack, name, url) for name, url in urls.items()))
        kubeconfig = kube.write_kubeconfig(Path(tmp) / "kubeconfig")
        with running_router(pointed_at(model_map, urls, scale=True), Path(tmp), kubeconfig=kubeconfig) as (
            router_url,
            _,
        ):
            print(f"router: {router_url}")
            for pool in stack.config.pools:
                model = _first_choice_model(model_map, pool.name)
                scale = scales.get(pool.name)
                if model is None:
                    print(f"\n(pool {pool.name!r}: no model prefers it alone, so no answer here shows it)")
                elif scale is not None:
                    _wake(router_url, model, kube, scale)
                elif pool.gpu is None:
                    _embed(router_url, model)
                else:
                    _stream_ollama(router_url, model)
            _stream_openai(router_url, _openai_model(model_map))
    print("\nDone: every answer above was streamed through one router endpoint.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
