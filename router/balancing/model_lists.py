"""Reading which models an Ollama listing names: ``/api/tags`` (on disk) and ``/api/ps`` (in memory).

Both answers are ``{"models": [...]}`` with entries that carry ``model`` (the full name) and ``name`` (its
display form); ``model`` is read first, as it is the name Ollama resolves
(https://github.com/ollama/ollama/blob/main/docs/api.md#list-local-models). Names are returned as the
router compares them (:func:`config.model_names.model_key`); an entry whose name Ollama could not have
written is skipped rather than trusted.
"""

from __future__ import annotations

from typing import Any

from config.model_names import InvalidModelNameError, model_key


def listed_models(document: Any) -> list[str] | None:
    """The comparison keys of the models a listing names, in its order; None if ``document`` is not one."""
    models = document.get("models") if isinstance(document, dict) else None
    if not isinstance(models, list):
        return None
    keys: list[str] = []
    for entry in models:
        name = entry.get("model") or entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            continue
        try:
            keys.append(model_key(name))
        except InvalidModelNameError:
            continue
    return keys
