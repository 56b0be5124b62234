"""Combining every backend's ``/api/tags``, ``/api/ps`` and ``/api/version`` into one Ollama's answer.

Pure functions over decoded JSON (https://github.com/ollama/ollama/blob/main/docs/api.md): entries are kept as
the backends wrote them, one per model (compared by Ollama's name rules), and only for models the map routes
to the backend that listed them, preferring the backend of lowest priority. Each alias appears as its own
entry, a copy of its target's with ``name`` and ``model`` replaced. Tags are ordered newest ``modified_at``
first, ps by ``expires_at`` latest first. Lists are always lists, never null.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from config.model_map import RouteTarget
from config.model_names import InvalidModelNameError, model_key, parse_model_name

Entry = dict[str, Any]

_FRACTION = re.compile(r"(\.\d{6})\d+")
_VERSION = re.compile(r"v?(\d+(?:\.\d+)*)")


def instant(text: Any) -> float:
    """A Go RFC 3339 time (nanoseconds, offset) as a POSIX timestamp; 0 for anything unreadable."""
    if not isinstance(text, str):
        return 0.0
    cleaned = _FRACTION.sub(r"\1", text.strip()).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(cleaned).timestamp()
    except ValueError:
        return 0.0


def _entry_key(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return None
    name = entry.get("model") or entry.get("name")
    if not isinstance(name, str):
        return None
    try:
        return model_key(name)
    except InvalidModelNameError:
        return None


def merge_models(
    answers: Sequence[tuple[str, Sequence[Any]]],
    routes: Mapping[str, tuple[RouteTarget, ...]],
    aliases: Mapping[str, str],
    order_field: str,
) -> list[Entry]:
    """One entry per routed model (plus aliases) from ``(backend, models)`` answers, newest first."""
    best: dict[str, tuple[int, Entry]] = {}
    for backend, models in answers:
        for entry in models:
            key = _entry_key(entry)
            targets = routes.get(key) if key is not None else None
            rank = next((t.priority for t in targets or () if t.name == backend), None)
            if key is None or rank is None:
                continue
            if key not in best or rank < best[key][0]:
                best[key] = (rank, entry)
    merged = [entry for _, entry in best.values()]
    for alias, target in aliases.items():
        found = best.get(target)
        if found is not None:
            merged.append({**found[1], "name": alias, "model": alias})
    merged.sort(key=lambda entry: instant(entry.get(order_field)), reverse=True)
    return merged


def models_of(document: Any) -> list[Any]:
    """The ``models`` list of a tags or ps answer; ``[]`` for a null or malformed one."""
    if isinstance(document, dict) and isinstance(document.get("models"), list):
        return list(document["models"])
    return []


def openai_models(tags: Sequence[Entry]) -> dict[str, Any]:
    """``/v1/models`` from merged tags, shaped as Ollama's ``ToListCompletion`` (but ``[]``, not null)."""
    return {"object": "list", "data": [openai_model(entry["name"], entry) for entry in tags if "name" in entry]}


def openai_model(model_id: str, entry: Entry) -> dict[str, Any]:
    """One ``/v1/models`` item: id, ``created`` from ``modified_at``, ``owned_by`` the namespace."""
    try:
        owner = parse_model_name(model_id).namespace
    except InvalidModelNameError:
        owner = "library"
    return {"id": model_id, "object": "model", "created": int(instant(entry.get("modified_at"))), "owned_by": owner}


def lowest_version(versions: Sequence[Any]) -> str | None:
    """The lowest of the backends' versions in numeric dotted form (``v0.5.1-rc2`` → ``0.5.1``)."""
    parsed: list[tuple[int, ...]] = []
    for version in versions:
        match = _VERSION.match(version.strip()) if isinstance(version, str) else None
        if match:
            parsed.append(tuple(int(part) for part in match.group(1).split(".")))
    if not parsed:
        return None
    return ".".join(str(part) for part in min(parsed))
