"""``GET /api/tags`` throughput with ``wrk`` (pinned to the load CPU), every response checked by a Lua hook.

The hook compares each response's status and body with the expected listing and counts the misses, so
wrk's speed is kept while no byte goes unchecked. Without wrk the Python load generator is used instead,
and the table labels the row with the tool that measured it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.procs import Pinning

VERIFY_LUA = """\
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  local file = assert(io.open(args[1], "rb"))
  expected = file:read("*a")
  file:close()
  ok, bad, first = 0, 0, ""
end
function response(status, headers, body)
  if status == 200 and body == expected then
    ok = ok + 1
  else
    bad = bad + 1
    if first == "" then first = "status " .. status .. ": " .. string.sub(body or "", 1, 120) end
  end
end
function done(summary, latency, requests)
  local all_ok, all_bad, first_problem = 0, 0, ""
  for _, thread in ipairs(threads) do
    all_ok = all_ok + thread:get("ok")
    all_bad = all_bad + thread:get("bad")
    if first_problem == "" then first_problem = thread:get("first") end
  end
  io.write(string.format("bench-verify ok=%d bad=%d\\n", all_ok, all_bad))
  if first_problem ~= "" then io.write("bench-first-problem " .. first_problem .. "\\n") end
end
"""


@dataclass(frozen=True, slots=True)
class WrkResult:
    """Requests per second and how many responses were checked good or bad."""

    rps: float
    ok: int
    bad: int
    errors: str
    problem: str


def wrk_binary() -> str | None:
    """Path of ``wrk`` when installed, else None."""
    return shutil.which("wrk")


def parse_output(text: str) -> WrkResult:
    """Read wrk's summary and the Lua hook's verdict from its output."""
    rps = re.search(r"Requests/sec:\s*([\d.]+)", text)
    verdict = re.search(r"bench-verify ok=(\d+) bad=(\d+)", text)
    errors = re.search(r"Socket errors:.*", text)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    first = re.search(r"bench-first-problem (.*)", text)
    if rps is None or verdict is None:
        raise RuntimeError(f"unexpected wrk output:\n{text}")
    ok, bad = int(verdict.group(1)), int(verdict.group(2))
    problem = first.group(1) if first else ""
    if non2xx and int(non2xx.group(1)) and not problem:
        problem = f"{non2xx.group(1)} non-2xx responses"
    return WrkResult(float(rps.group(1)), ok, bad, errors.group(0) if errors else "", problem)


def run_wrk(
    binary: str,
    port: int,
    path: str,
    expected: bytes,
    workdir: Path,
    *,
    connections: int,
    seconds: float,
    pinning: Pinning,
) -> WrkResult:
    """``wrk -t1 -c<connections>`` against ``127.0.0.1:port<path>`` for ``seconds``, verifying every body."""
    script = workdir / "verify.lua"
    script.write_text(VERIFY_LUA)
    body_file = workdir / "expected-body"
    body_file.write_bytes(expected)
    argv = [
        *pinning.prefix(pinning.load_cpu),
        binary,
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}{path}",
        "--",
        str(body_file),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_output(done.stdout)
