"""The simulator's fixed clock: every timestamp it writes is derived from these constants, never wall time.

That is what makes its bytes deterministic (the same request always gives the same answer). Times are
rendered like Go's ``time.Time`` in JSON (RFC 3339 with nanoseconds, trailing zeros trimmed): ``created_at``
in UTC as Ollama writes it (``time.Now().UTC()``), ``modified_at``/``expires_at`` in a fixed local zone with
an offset, as a backend machine's local time would be (Go's time format, as in https://github.com/ollama/ollama/blob/main/docs/api.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

NS = 1_000_000_000
SIM_EPOCH_NS = int(datetime(2025, 6, 1, 12, 0, tzinfo=UTC).timestamp()) * NS
"""Simulated "now" when an answer starts: every ``created_at`` counts from here."""

MODIFIED_EPOCH_NS = int(datetime(2025, 5, 1, 16, 30, tzinfo=UTC).timestamp()) * NS
"""Simulated ``modified_at`` of the first configured model; later ones are an hour older each."""

LOCAL_OFFSET = timedelta(hours=-7)
"""The simulated backend's local zone (Ollama's own API examples are in -07:00)."""

LOAD_NS = 20_000_000
"""Simulated ``load_duration`` of every request (20 ms)."""

PROMPT_TOKEN_NS = 500_000
"""Simulated prompt evaluation time per prompt token (0.5 ms)."""

DEFAULT_STEP_NS = 20_000_000
"""Simulated time per generated token when the simulator is unpaced (50 tokens/s)."""

DEFAULT_KEEP_ALIVE_NS = 300 * NS
"""Ollama's default keep-alive: a loaded model expires 5 minutes after its last use."""


def step_ns(token_rate: float) -> int:
    """Simulated nanoseconds per token: the configured pace, or 50 tokens/s when unpaced."""
    return int(NS / token_rate) if token_rate > 0 else DEFAULT_STEP_NS


@lru_cache(maxsize=8192)
def go_time(ns: int, local: bool = False) -> str:
    """``ns`` since the Unix epoch as Go's RFC 3339 nano form (UTC ``Z``, or the fixed local offset)."""
    seconds, fraction = divmod(ns, NS)
    zone = timezone(LOCAL_OFFSET) if local else UTC
    moment = datetime.fromtimestamp(seconds, tz=zone)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += f".{fraction:09d}".rstrip("0")
    if not local:
        return text + "Z"
    offset = moment.strftime("%z")
    return f"{text}{offset[:3]}:{offset[3:]}"


def unix_seconds(ns: int) -> int:
    """Whole seconds, as Go's ``time.Unix()`` (used by the OpenAI ``created`` fields)."""
    return ns // NS
