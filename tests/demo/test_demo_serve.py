"""``make demo-serve``: the printed commands work as printed, and Ctrl-C leaves nothing running."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from scripts.demo_serve import READY

ROOT = Path(__file__).resolve().parents[2]
TRY = "Try it from another terminal, in this directory:"


@dataclass
class Served:
    """A running ``demo-serve``: its process, what it printed up to the ready line, and its children."""

    process: subprocess.Popen[str]
    output: str
    children: list[int]

    @property
    def blocks(self) -> list[str]:
        """The printed command blocks, each as it would be pasted into a shell."""
        commands = self.output.split(TRY, 1)[1].split(READY, 1)[0]
        return [block.strip() for block in commands.split("\n\n") if block.strip()]

    def block(self, marker: str) -> str:
        """The one printed block containing ``marker``."""
        found = [block for block in self.blocks if marker in block]
        assert len(found) == 1, f"expected one block with {marker!r}, got {self.blocks}"
        return found[0]

    @property
    def router_url(self) -> str:
        """The router's URL as printed."""
        line = next(line for line in self.output.splitlines() if line.startswith("router: "))
        return line.split()[1]


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@contextmanager
def demo_serve(*args: str) -> Iterator[Served]:
    """``python -m scripts.demo_serve ARGS`` until its ready line; interrupted like Ctrl-C at the end."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_PROXY": "127.0.0.1,localhost"}
    command = [sys.executable, "-m", "scripts.demo_serve", *args]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    lines: list[str] = []
    try:
        for line in process.stdout:
            lines.append(line)
            if line.strip() == READY:
                break
        output = "".join(lines)
        assert READY in output, f"demo-serve exited ({process.wait()}) before it was ready:\n{output}"
        yield Served(process, output, _children(process.pid))
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        process.stdout.close()


def _shell(block: str) -> str:
    result = subprocess.run(
        ["bash", "-c", block],
        cwd=ROOT,
        env={**os.environ, "NO_PROXY": "127.0.0.1,localhost"},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, f"{block}\nfailed with {result.returncode}:\n{result.stdout}{result.stderr}"
    return result.stdout


def _check_every_printed_command(served: Served, pools: set[str]) -> None:
    lines = [json.loads(line) for line in _shell(served.block("/api/chat")).splitlines()]
    assert lines[-1]["done"] is True and "".join(line["message"]["content"] for line in lines).strip()
    assert _shell(served.block("import ollama")).strip(), "the ollama client streamed an answer"
    assert _shell(served.block("from openai import OpenAI")).strip(), "the openai client streamed an answer"
    status_json, tables = _shell(served.block("/fleet/status")).split("\n", 1)
    assert {backend["name"] for backend in json.loads(status_json)["backends"]} == pools
    assert "Backends" in tables and "Model map" in tables


def test_demo_serve_prints_commands_that_work_and_stops_cleanly_on_ctrl_c() -> None:
    with demo_serve("--stack", "dev", "--port", "0") as served:
        _check_every_printed_command(served, {"t4", "l4", "a100", "cpu"})
        assert served.children, "the router runs in its own process"
        url = served.router_url
    assert served.process.returncode == 0
    assert not [pid for pid in served.children if Path(f"/proc/{pid}").exists()], "a child outlived Ctrl-C"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz", timeout=5)


def test_demo_serve_with_a_key_on_a_taken_port_says_so_and_its_commands_carry_the_key() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with demo_serve("--stack", "home", "--port", str(port), "--key", "demo-key") as served:
            assert f"port {port} is in use, so it took" in served.output
            _check_every_printed_command(served, {"k80", "m40", "l4"})
            assert httpx.get(f"{served.router_url}/api/tags", timeout=5).status_code == 401, "the key is required"
    assert served.process.returncode == 0


def test_an_unknown_stack_is_named_with_the_stacks_there_are() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scripts.demo_serve", "--stack", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "no stack 'nope': Pulumi.nope.yaml does not exist; stacks here: dev, home" in result.stderr
