"""Hot reload of the model map, updated the way Kubernetes updates a mounted ConfigMap (symlink swap)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from config.model_map import parse_model_map
from ollama_sim import SimConfig, running_sim
from tests.router.conftest import Fleet, fleet_router
from tests.router.harness import RunningRouter, captured_log, eventually, model_map

GUARD = 15.0
"""Bound for every wait and client call: a guard against hangs, not a timing assertion."""

CHAT = {"model": "llama3.2:3b", "messages": [{"role": "user", "content": "a long story"}]}


class ConfigMapDir:
    """A directory laid out as the kubelet mounts a ConfigMap: ``model-map.json -> ..data/model-map.json``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.generation = 0
        self.path = root / "model-map.json"

    def publish(self, content: str) -> None:
        """Write a new timestamped directory and swap ``..data`` to it atomically, as the kubelet does."""
        self.generation += 1
        target = self.root / f"..2025_06_01_12_00_{self.generation:02d}"
        target.mkdir()
        (target / "model-map.json").write_text(content, encoding="utf-8")
        link = self.root / "..data_tmp"
        link.symlink_to(target.name)
        os.replace(link, self.root / "..data")
        if not self.path.is_symlink():
            self.path.symlink_to("..data/model-map.json")


def _live_version(router: RunningRouter) -> str:
    return str(httpx.get(router.url + "/fleet/status", timeout=GUARD).json()["model_map_version"])


def _wait_for(router: RunningRouter, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Poll ``/fleet/status`` until ``predicate(status)`` holds (bounded)."""
    seen: list[dict[str, Any]] = [{}]

    def check() -> bool:
        seen[0] = httpx.get(router.url + "/fleet/status", timeout=GUARD).json()
        return predicate(seen[0])

    assert eventually(check), seen[0]
    return seen[0]


def _stream(url: str, into: bytearray, started: threading.Event) -> threading.Thread:
    """Read a streamed chat answer from ``url`` in a thread, byte for byte."""

    def read() -> None:
        with httpx.stream("POST", url + "/api/chat", json=CHAT, timeout=GUARD) as response:
            for chunk in response.iter_raw():
                into.extend(chunk)
                started.set()

    thread = threading.Thread(target=read)
    thread.start()
    return thread


def test_a_new_map_applies_without_cutting_a_stream_in_flight(fleet: Fleet, tmp_path: Path) -> None:
    """The stream's backend even leaves the map: it still completes byte for byte on its old objects."""
    paced = SimConfig(name="paced", models=("llama3.2:3b",), token_rate=20.0, tokens=40)
    with running_sim(paced) as sim, captured_log() as log:
        old = model_map({"paced": sim.url, "t4": fleet.t4.url}, {"llama3.2:3b": ["paced"]})
        new = model_map({"t4": fleet.t4.url, "l4": fleet.l4.url}, {"llama3.2:3b": ["t4"], "mistral:7b": ["l4"]})
        mount = ConfigMapDir(tmp_path)
        mount.publish(json.dumps(old))
        with fleet_router(fleet, document=old, model_map=mount.path, reload_interval=0.05) as router:
            before = httpx.post(router.url + "/api/chat", json={"model": "mistral:7b", "messages": []}, timeout=GUARD)
            assert before.status_code == 404, "mistral:7b is not routed yet"
            received, direct = bytearray(), bytearray()
            started = threading.Event()
            readers = [_stream(router.url, received, started), _stream(sim.url, direct, threading.Event())]
            assert started.wait(GUARD), "the stream started before the reload"
            mount.publish(json.dumps(new))
            version = parse_model_map(new).version
            status = _wait_for(router, lambda s: s["model_map_version"] == version)
            assert status["model_map"]["last_reload_error"] is None
            assert [b["name"] for b in status["backends"]] == ["t4", "l4"]
            routed = httpx.post(router.url + "/api/chat", json={"model": "mistral:7b", "messages": []}, timeout=GUARD)
            assert (routed.status_code, routed.headers["x-fleet-backend"]) == (200, "l4")
            for reader in readers:
                reader.join(GUARD)
        assert bytes(received) == bytes(direct) and received.count(b"\n") == 41, "completed byte-identical"
        assert sim.observed.completed_streams == 2 and sim.observed.disconnects == 0
    served = [r for r in log.records if r["message"] == "request" and r.get("backend") == "paced"]
    order = log.records.index(served[-1]) > next(
        i for i, r in enumerate(log.records) if r["message"] == "model map reloaded"
    )
    assert order, "the router applied the new map while the stream was still being served"


def test_a_broken_map_is_rejected_and_the_old_one_stays(fleet: Fleet, tmp_path: Path) -> None:
    good = fleet.document()
    mount = ConfigMapDir(tmp_path)
    mount.publish(json.dumps(good))
    with fleet_router(fleet, document=good, model_map=mount.path, reload_interval=0.05) as router:
        version = _live_version(router)
        broken = {
            "backends": [{"name": "t4", "url": "https://t4.example:11434"}],
            "routes": [{"model": "llama3.2:3b", "backends": ["t4", "h100"]}],
        }
        mount.publish(json.dumps(broken))
        status = _wait_for(router, lambda s: s["model_map"]["last_reload_error"] is not None)
        problems = status["model_map"]["last_reload_error"]["problems"]
        assert any("routes[0].backends[1]" in p and "unknown backend 'h100'" in p for p in problems), problems
        assert status["model_map_version"] == version, "the old map stays in force"
        assert httpx.post(router.url + "/api/chat", json=CHAT | {"stream": False}, timeout=GUARD).status_code == 200

        mount.publish("backends: [{name: t4, url: 'http://t4.example:11434', ca_file: /ca.pem}]\n")
        status = _wait_for(router, lambda s: "ca_file" in json.dumps(s["model_map"]["last_reload_error"]))
        assert any("backends[0].ca_file" in p for p in status["model_map"]["last_reload_error"]["problems"])

        mount.publish("backends: [unterminated\n")
        status = _wait_for(router, lambda s: "cannot read" in json.dumps(s["model_map"]["last_reload_error"]))
        assert status["model_map_version"] == version
        metrics = httpx.get(router.url + "/metrics", timeout=GUARD).text
        assert 'fleet_model_map_reloads_total{result="rejected"} 3' in metrics

        fixed = model_map({"t4": fleet.t4.url}, {"llama3.2:3b": ["t4"]})
        mount.publish(json.dumps(fixed))
        status = _wait_for(router, lambda s: s["model_map_version"] == parse_model_map(fixed).version)
        assert status["model_map"]["last_reload_error"] is None, "a valid map clears the error"
