"""What a simulated Ollama holds: installed models, uploaded blobs and the models loaded in memory.

Models resolve by Ollama's name rules (case-insensitive, defaults filled in: ``config.model_names``). Listings
follow Ollama's listings: ``/api/tags`` newest ``modified_at`` first, ``/api/ps`` longest ``expires_at``
first, ``[]`` and never ``null`` when empty; ``/v1/models`` is derived from tags and is ``null`` when empty.
Listing bodies are cached until the catalog changes, since ``GET /api/tags`` is a benchmark target.
"""

from __future__ import annotations

import hashlib

from config.model_names import InvalidModelNameError, model_key, parse_model_name
from ollama_sim.clock import DEFAULT_KEEP_ALIVE_NS, MODIFIED_EPOCH_NS, NS, SIM_EPOCH_NS, go_time, unix_seconds
from ollama_sim.gojson import go_json_bytes
from ollama_sim.modelinfo import CONTEXT_LENGTH, ModelFacts, facts_for


def _jitter_ns(name: str) -> int:
    """A stable sub-second offset so timestamps carry realistic nanoseconds."""
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % NS


class SimState:
    """The mutable catalog of one simulator; used only from its event loop."""

    def __init__(self, models: tuple[str, ...]) -> None:
        self.models: dict[str, ModelFacts] = {}
        self.blobs: set[str] = set()
        self.loaded: dict[str, int] = {}
        self._clock_s = 0
        self._added = 0
        self._cache: dict[str, bytes] = {}
        for index, name in enumerate(models):
            modified = MODIFIED_EPOCH_NS - index * 3600 * NS + _jitter_ns(name)
            facts = facts_for(name, modified)
            self.models[facts.key] = facts

    def lookup(self, name: str) -> ModelFacts | None:
        """The installed model ``name`` refers to, or ``None`` (also for an invalid name)."""
        try:
            return self.models.get(model_key(name))
        except InvalidModelNameError:
            return None

    def add(self, name: str, like: ModelFacts | None = None) -> ModelFacts:
        """Install ``name`` (a pull, copy or create): it becomes the newest model in the listing."""
        self._added += 1
        modified = MODIFIED_EPOCH_NS + self._added * 60 * NS + _jitter_ns(name)
        existing = self.lookup(name)
        facts = facts_for(name, modified, like if like is not None else existing)
        self.models[facts.key] = facts
        self._cache.clear()
        return facts

    def remove(self, facts: ModelFacts) -> None:
        """Delete an installed model (and unload it)."""
        self.models.pop(facts.key, None)
        self.loaded.pop(facts.key, None)
        self._cache.clear()

    def mark_loaded(self, facts: ModelFacts, keep_alive: int | None) -> None:
        """A request used ``facts``: it is loaded until the simulated clock plus its keep-alive."""
        self._clock_s += 1
        now = SIM_EPOCH_NS + self._clock_s * NS
        self.loaded[facts.key] = now + (DEFAULT_KEEP_ALIVE_NS if keep_alive is None else keep_alive)

    def unload(self, facts: ModelFacts) -> None:
        """``keep_alive: 0`` with an empty prompt: the model leaves ``/api/ps``."""
        self.loaded.pop(facts.key, None)

    def restart(self) -> None:
        """A restarted backend keeps its installed models but nothing stays loaded."""
        self.loaded.clear()

    def newest_first(self) -> list[ModelFacts]:
        """Installed models in ``/api/tags`` order."""
        return sorted(self.models.values(), key=lambda facts: facts.modified_ns, reverse=True)

    def tags_body(self) -> bytes:
        """``GET /api/tags``: ``{"models":[ListModelResponse]}``."""
        if "tags" not in self._cache:
            entries = [
                {
                    "name": facts.name,
                    "model": facts.name,
                    "modified_at": go_time(facts.modified_ns, local=True),
                    "size": facts.size,
                    "digest": facts.digest,
                    "details": facts.details(),
                }
                for facts in self.newest_first()
            ]
            self._cache["tags"] = go_json_bytes({"models": entries})
        return self._cache["tags"]

    def v1_models_body(self) -> bytes:
        """``GET /v1/models``: tags re-shaped by ``openai.ToListCompletion`` (``data`` null when empty)."""
        if "v1" not in self._cache:
            data = [
                {
                    "id": facts.name,
                    "object": "model",
                    "created": unix_seconds(facts.modified_ns),
                    "owned_by": parse_model_name(facts.name).namespace,
                }
                for facts in self.newest_first()
            ]
            self._cache["v1"] = go_json_bytes({"object": "list", "data": data or None}) + b"\n"
        return self._cache["v1"]

    def ps_body(self) -> bytes:
        """``GET /api/ps``: loaded models, the one expiring last first."""
        order = sorted(self.loaded.items(), key=lambda item: item[1], reverse=True)
        entries = []
        for key, expires in order:
            facts = self.models[key]
            entries.append(
                {
                    "name": facts.name,
                    "model": facts.name,
                    "size": facts.size,
                    "digest": facts.digest,
                    "details": facts.details(),
                    "expires_at": go_time(min(expires, 253402300799 * NS), local=True),
                    "size_vram": facts.size,
                    "context_length": CONTEXT_LENGTH,
                }
            )
        return go_json_bytes({"models": entries})
