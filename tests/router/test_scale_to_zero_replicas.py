"""Two router processes share one pool's activity through its Lease: one wakes the pool and serves it, which
keeps the other from putting it to sleep; once nobody serves it, it sleeps."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from kube_sim import RunningKubeSim
from tests.router.harness import eventually
from tests.router.scale_fleet import NS, SLEEPER, SLEEPER_MODEL, scale_fleet, scaling_status

ROOT = Path(__file__).resolve().parents[2]
IDLE_AFTER_S = 2.0
TOKENS = 400
"""At the simulator's 20 tokens a second, one answer streams for many times ``IDLE_AFTER_S``."""
RENEWALS = 6
"""Renewals while one answer streams: every ``IDLE_AFTER_S / 3`` s, so six span more than ``IDLE_AFTER_S``."""


@contextmanager
def router_process(model_map: Path, kubeconfig: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``python -m router`` on a free port, reading the cluster from ``KUBECONFIG``."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "FLEET_DRAIN_NOTICE_SECONDS": "0", "FLEET_PROBE_INTERVAL": "0"}
    command = [
        sys.executable,
        "-m",
        "router",
        "--model-map",
        str(model_map),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        assert eventually(lambda: _up(url) or process.poll() is not None, 30), "the router did not start"
        assert process.poll() is None, "the router exited at start"
        yield url, process
    finally:
        process.terminate()
        process.wait(30)


def _renewals(kube: RunningKubeSim) -> int:
    lease = f"/leases/ollama-fleet-activity-{SLEEPER}"
    return sum(1 for seen in list(kube.state.seen) if seen.method == "PUT" and seen.path.endswith(lease))


def _up(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_pool_one_router_serves_is_not_put_to_sleep_by_another(tmp_path: Path) -> None:
    with scale_fleet(tmp_path, tokens=TOKENS) as fleet:
        document = tmp_path / "model-map.json"
        document.write_text(json.dumps(fleet.document(idle_after_s=IDLE_AFTER_S)))
        with (
            router_process(document, fleet.kubeconfig) as (idle_url, _),
            router_process(document, fleet.kubeconfig) as (busy_url, busy),
        ):
            renewals = _renewals(fleet.kube)
            body = {"model": SLEEPER_MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": True}
            with httpx.stream("POST", busy_url + "/api/chat", json=body, timeout=60) as answer:
                assert answer.status_code == 200
                for _ in answer.iter_lines():
                    if _renewals(fleet.kube) - renewals >= RENEWALS:
                        break
                else:
                    seen = f"renewals {_renewals(fleet.kube) - renewals}, scale writes {fleet.scale_writes()}"
                    raise AssertionError(f"the answer ended before the Lease was renewed long enough ({seen})")
                assert fleet.scale_writes() == [1], "a router put the pool to sleep while the other was serving it"
            holder = fleet.kube.lease(NS, f"ollama-fleet-activity-{SLEEPER}")["spec"]["holderIdentity"]
            assert holder.endswith(f"/{busy.pid}"), "the serving router renews the pool's activity"
            assert eventually(lambda: fleet.scale_writes() == [1, 0], 30), "nobody serves it, yet it never slept"
            assert eventually(lambda: scaling_status(idle_url)["state"] == "asleep")
