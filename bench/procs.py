"""Starting and stopping the processes of a benchmark run, pinned to their CPUs with ``taskset``.

Layout: the simulated Ollamas and the load generator (this process, and ``wrk``) on CPU 0, the proxy
under test on CPU 1, so the proxy's cost is what CPU 1 spends and it never competes with the load. When
``taskset`` or a second CPU is missing, everything runs unpinned and the report says so.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

LOAD_CPU = 0
PROXY_CPU = 1
STOP_WAIT_S = 10.0


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""An opener that ignores ``http_proxy``: every URL here is on loopback."""


class StartError(RuntimeError):
    """A process of the benchmark did not come up; the message carries its log's tail."""


@dataclass(frozen=True, slots=True)
class Pinning:
    """Where processes run: ``load_cpu``/``proxy_cpu`` are None when unpinned; ``note`` says why."""

    load_cpu: int | None
    proxy_cpu: int | None
    note: str

    def prefix(self, cpu: int | None) -> list[str]:
        """The ``taskset`` prefix for a command that should run on ``cpu`` (none when unpinned)."""
        return [] if cpu is None else ["taskset", "-c", str(cpu)]


def detect_pinning() -> Pinning:
    """CPU 0 for sims and load, CPU 1 for the proxy, when ``taskset`` and both CPUs are available."""
    allowed = os.sched_getaffinity(0)
    if shutil.which("taskset") is None:
        return Pinning(None, None, "taskset not found: running unpinned (numbers are less comparable)")
    if not {LOAD_CPU, PROXY_CPU} <= allowed:
        return Pinning(None, None, f"CPUs {sorted(allowed)} available, need 0 and 1: running unpinned")
    return Pinning(LOAD_CPU, PROXY_CPU, f"sims + load generator on CPU {LOAD_CPU}, proxy under test on CPU {PROXY_CPU}")


def pin_self(cpu: int | None) -> None:
    """Run this process (the load generator) on ``cpu``."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


def raise_file_limit() -> None:
    """Allow as many open sockets as the hard limit does (hundreds of streams, times three hops)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Child:
    """One started process, its output going to ``log``."""

    def __init__(self, name: str, argv: Sequence[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                list(argv), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )

    @property
    def pid(self) -> int:
        """Its process id."""
        return self.proc.pid

    def alive(self) -> bool:
        """Whether it is still running."""
        return self.proc.poll() is None

    def tail(self, lines: int = 15) -> str:
        """The last lines of its output (for error messages)."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time."""
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(STOP_WAIT_S)


def python_child(
    name: str, module_args: Sequence[str], cpu: int | None, pinning: Pinning, log: Path, *, drop_env: str = ""
) -> Child:
    """``python -m <module_args>`` with this interpreter, pinned to ``cpu``, without ``drop_env*`` variables."""
    env = {key: value for key, value in os.environ.items() if not (drop_env and key.startswith(drop_env))}
    env["PYTHONUNBUFFERED"] = "1"
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return Child(name, [*pinning.prefix(cpu), sys.executable, "-m", *module_args], log, env)


def wait_http_ok(child: Child, port: int, path: str, timeout: float) -> None:
    """Poll ``GET path`` on ``port`` until it answers 200; :class:`StartError` if the child dies or time runs out."""
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}{path}"
    while time.monotonic() < deadline:
        if not child.alive():
            raise StartError(f"{child.name} exited with status {child.proc.returncode}:\n{child.tail()}")
        with contextlib.suppress(OSError, urllib.error.URLError), _DIRECT.open(url, timeout=1.0) as response:
            if response.status == 200:
                return
        time.sleep(0.05)
    raise StartError(f"{child.name} did not answer {path} within {timeout:g} s:\n{child.tail()}")
