"""``make demo``: the whole fleet on one machine in about ten seconds.

One simulated Ollama per pool of ``Pulumi.dev.yaml`` (named like the pools), the model map the stack
would deploy (pointed at those simulators instead of in-cluster Services), the real router in its own
process, and the official ``ollama`` and ``openai`` clients streaming through it. Which pool served each
answer is read from the response's ``X-Fleet-Backend`` header, never from the map.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import ollama
import openai

from config.derive import derive_model_map
from config.loading import load_stack_file
from config.model_map import Backend, ModelMap
from ollama_sim import SimConfig, running_sim

ROOT = Path(__file__).resolve().parents[1]
STACK = ROOT / "Pulumi.dev.yaml"
TOKEN_RATE = 40.0
STARTUP_SECONDS = 20.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def _router(model_map: Path, log: Path) -> Iterator[str]:
    """The real router in its own process; its JSON log goes to ``log`` and is shown if anything fails."""
    port = _free_port()
    env = {**os.environ, "FLEET_API_KEYS": "", "FLEET_ADMIN_KEYS": "", "FLEET_DRAIN_NOTICE_SECONDS": "0"}
    command = [sys.executable, "-m", "router", "--model-map", str(model_map), "--host", "127.0.0.1"]
    with log.open("wb") as sink:
        process = subprocess.Popen([*command, "--port", str(port)], cwd=ROOT, env=env, stdout=sink, stderr=sink)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process)
        yield url
    except BaseException:
        print(f"\nrouter log:\n{log.read_text(encoding='utf-8')}", file=sys.stderr)
        raise
    finally:
        process.terminate()
        process.wait(timeout=15)


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the router exited with code {process.returncode} before it was ready")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise SystemExit(f"the router did not become ready within {STARTUP_SECONDS:.0f} s")


def _pointed_at(model_map: ModelMap, urls: dict[str, str]) -> ModelMap:
    backends = [Backend(name=b.name, url=urls[b.name], max_in_flight=b.max_in_flight) for b in model_map.backends]
    return model_map.model_copy(update={"backends": backends})


def _first_choice_model(model_map: ModelMap, pool: str) -> str:
    """A model whose route prefers this pool alone, so the answer shows the pool it came from."""
    for route in model_map.routes:
        best = min(target.priority for target in route.backends)
        if [t.name for t in route.backends if t.priority == best] == [pool]:
            return route.model
    raise SystemExit(f"no model of pool {pool!r} prefers it alone; the demo has nothing to show for it")


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


def main() -> int:
    """Run the demo; exit code 0 when every answer came back through the router."""
    stack = load_stack_file(STACK)
    model_map = derive_model_map(stack)
    pools = ", ".join(f"{pool.name} ({pool.gpu or 'CPU'})" for pool in stack.pools)
    print(f"Fleet of {STACK.name}: {pools}")
    with contextlib.ExitStack() as sims, tempfile.TemporaryDirectory() as tmp:
        urls: dict[str, str] = {}
        for pool in stack.pools:
            config = SimConfig(name=pool.name, models=tuple(pool.ollama.models), token_rate=TOKEN_RATE, tokens=12)
            urls[pool.name] = sims.enter_context(running_sim(config)).url
        map_file = Path(tmp) / "model-map.json"
        map_file.write_text(_pointed_at(model_map, urls).to_json(), encoding="utf-8")
        print(f"simulated Ollama per pool: {', '.join(f'{k} {v}' for k, v in urls.items())}")
        with _router(map_file, Path(tmp) / "router.log") as router_url:
            print(f"router: {router_url}")
            for pool in stack.pools:
                model = _first_choice_model(model_map, pool.name)
                if pool.gpu is None:
                    _embed(router_url, model)
                else:
                    _stream_ollama(router_url, model)
            _stream_openai(router_url, "chat")
    print("\nDone: every answer above was streamed through one router endpoint.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
