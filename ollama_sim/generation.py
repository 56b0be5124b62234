"""Deterministic "model output": the answer text, its metrics and embedding vectors.

Everything derives from a hash of the model key and the prompt (or messages), so one request always
produces the same tokens, and any two simulators serving the same model answer alike, which is what
byte-for-byte comparisons through a router rely on. Durations and timestamps come from the fixed clock
(:mod:`ollama_sim.clock`), never from how long the answer really took.
"""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass
from functools import lru_cache

from ollama_sim.clock import LOAD_NS, PROMPT_TOKEN_NS, SIM_EPOCH_NS

VOCABULARY = (
    "the", "model", "answers", "every", "request", "with", "a", "steady", "stream", "of", "tokens", "from",
    "one", "simulated", "backend", "router", "sends", "it", "to", "GPU", "and", "back", "again", "while",
    "clients", "see", "just", "Ollama", "fast", "small", "quiet", "bright", "calm", "lines", "flow", "in",
    "order", "each", "word", "arrives", "on", "time", "through", "fleet", "so", "nothing", "waits", "long",
    "here", "is", "your", "reply", "today", "as", "asked", "kindly", "now", "then", "we", "go", "up", "more",
    "text", "done",
)  # fmt: skip
"""64 plain ASCII words: their JSON form equals their text, so lines need no per-token escaping."""


def request_seed(model_key: str, parts: tuple[str, ...]) -> bytes:
    """A 16-byte seed for one request: model identity plus the prompt or message texts."""
    digest = hashlib.blake2b(model_key.encode(), digest_size=16)
    for part in parts:
        digest.update(b"\x1e")
        digest.update(part.encode("utf-8", "surrogatepass"))
    return digest.digest()


def prompt_tokens(parts: tuple[str, ...]) -> int:
    """Simulated prompt token count: words, plus one per message for the template, at least one."""
    return max(1, sum(len(part.split()) + 1 for part in parts))


@dataclass(frozen=True, slots=True)
class Generation:
    """One answer: its tokens, prompt size and timing, ready to be rendered in any wire format.

    Attributes:
        tokens: token texts; the first has no leading space, the rest start with one.
        prompt_eval_count: simulated prompt tokens.
        step_ns: simulated time per token.
        context: the token ids ``/api/generate`` returns in ``context``.
    """

    tokens: tuple[str, ...]
    prompt_eval_count: int
    step_ns: int
    context: tuple[int, ...]

    @property
    def text(self) -> str:
        """The whole answer."""
        return "".join(self.tokens)

    @property
    def start_ns(self) -> int:
        """When the first token was (simulated to be) ready to generate."""
        return SIM_EPOCH_NS + LOAD_NS + self.prompt_eval_count * PROMPT_TOKEN_NS

    def token_ns(self, index: int) -> int:
        """``created_at`` of token ``index``."""
        return self.start_ns + (index + 1) * self.step_ns

    @property
    def done_ns(self) -> int:
        """``created_at`` of the final ``done`` object."""
        return self.start_ns + len(self.tokens) * self.step_ns

    def metrics(self) -> dict[str, int]:
        """``api.Metrics`` in Go field order; zero values are left out (``omitempty``)."""
        eval_ns = len(self.tokens) * self.step_ns
        prompt_ns = self.prompt_eval_count * PROMPT_TOKEN_NS
        fields = {
            "total_duration": LOAD_NS + prompt_ns + eval_ns,
            "load_duration": LOAD_NS,
            "prompt_eval_count": self.prompt_eval_count,
            "prompt_eval_duration": prompt_ns,
            "eval_count": len(self.tokens),
            "eval_duration": eval_ns,
        }
        return {name: value for name, value in fields.items() if value}


@lru_cache(maxsize=4096)
def generate(seed: bytes, count: int, prompt_eval_count: int, step_ns: int) -> Generation:
    """The answer for ``seed``: ``count`` tokens drawn from :data:`VOCABULARY` by a hash stream."""
    stream = hashlib.shake_128(seed).digest(count + prompt_eval_count)
    ids = [byte & 63 for byte in stream]
    words = [VOCABULARY[index] for index in ids[:count]]
    tokens = tuple(word if position == 0 else " " + word for position, word in enumerate(words))
    context = tuple(1000 + index for index in ids[count:] + ids[:count])
    return Generation(tokens, prompt_eval_count, step_ns, context)


@dataclass(frozen=True, slots=True)
class Vector:
    """One embedding, both as Go prints its float32 numbers and as raw little-endian float32 bytes."""

    json: str
    raw: bytes


@lru_cache(maxsize=4096)
def embed(model_key: str, text: str, dimensions: int) -> Vector:
    """A unit-length vector for ``text``; every component has 6 decimals and magnitude ≥ 0.001.

    That range keeps Python's and Go's shortest float formatting identical, so bodies match Ollama's.
    """
    raw = hashlib.shake_256(f"{model_key}\x1f{text}".encode("utf-8", "surrogatepass")).digest(4 * dimensions)
    values = [(int.from_bytes(raw[i : i + 4], "little") / 2**32) * 2 - 1 for i in range(0, len(raw), 4)]
    norm = math.sqrt(sum(value * value for value in values)) or 1.0
    rounded = []
    for value in values:
        scaled = round(value / norm, 6)
        rounded.append(scaled if abs(scaled) >= 0.001 else math.copysign(0.001, value))
    return Vector("[" + ",".join(repr(value) for value in rounded) + "]", struct.pack(f"<{dimensions}f", *rounded))
