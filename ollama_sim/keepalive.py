"""Ollama's ``keep_alive`` field: a number of seconds or a Go duration string (``api.Duration``).

``keep_alive: 0`` with an empty prompt unloads a model
(https://github.com/ollama/ollama/blob/main/docs/api.md), so the simulator must read the field exactly:
numbers are seconds, strings go through Go's ``time.ParseDuration`` (``"0"`` is valid, ``"10"`` is not: it
lacks a unit), and any negative value means "keep loaded forever".
"""

from __future__ import annotations

import re

from ollama_sim.errors import ApiError
from ollama_sim.gojson import go_quote

FOREVER_NS = 2**63 - 1
"""Go's ``math.MaxInt64`` duration, what a negative keep-alive becomes."""

_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9}
_UNITS["h"] = 3600 * 10**9
_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)?")


def parse_go_duration(text: str) -> int:
    """Nanoseconds in a Go duration string, or :class:`ApiError` 400 with Go's message."""
    rest, sign = text, 1
    if rest[:1] in "+-" and rest:
        sign, rest = (-1 if rest[0] == "-" else 1), rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise ApiError(400, f"time: invalid duration {go_quote(text)}")
    total = 0.0
    while rest:
        match = _PART.match(rest)
        if match is None:
            raise ApiError(400, f"time: invalid duration {go_quote(text)}")
        if match.group(2) is None:
            raise ApiError(400, f"time: missing unit in duration {go_quote(text)}")
        total += float(match.group(1)) * _UNITS[match.group(2)]
        rest = rest[match.end() :]
    return sign * int(total)


def keep_alive_ns(value: object) -> int | None:
    """The request's keep-alive in nanoseconds; ``None`` when absent (use the default)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        kind = {bool: "bool", list: "[]interface {}", dict: "map[string]interface {}"}.get(type(value), "?")
        raise ApiError(400, f"Unsupported type: '{kind}'")
    ns = parse_go_duration(value) if isinstance(value, str) else int(value * 10**9)
    return FOREVER_NS if ns < 0 else ns
