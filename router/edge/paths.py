"""Request paths the router refuses before it matches a route: dot segments and encoded separators.

The router routes on the decoded path but forwards the path as the client encoded it, and a backend (or
a proxy between) may normalise either differently: ``/v1/../api/pull`` is a pass-through ``/v1`` path to
the router but the admin-only ``/api/pull`` to anything that resolves dot segments, and ``%2F`` or ``%5C``
inside a segment is a separator to some servers and not to others. Ollama (gin) has no route containing a
dot segment, so such a path is its 404; an encoded separator is refused with 400. One exception:
``/v1/models/<id>``, whose id the OpenAI client percent-encodes (``hf.co%2Fuser%2Fmodel``); the router
resolves that id as one model name and never treats its slashes as separators.
"""

from __future__ import annotations

from router.refusal import Refusal

MODELS_PREFIX = "/v1/models/"
NOT_FOUND = Refusal(404, "404 page not found")
ENCODED_SEPARATOR = Refusal(400, "encoded slashes and backslashes (%2F, %5C) are not accepted in a path")


def path_refusal(path: str, raw_path: bytes | None) -> Refusal | None:
    """None for a path the router may route, else its refusal."""
    if "/." in path and any(segment in (".", "..") for segment in path.split("/")):
        return NOT_FOUND
    if "\\" in path:
        return ENCODED_SEPARATOR
    if raw_path is not None and b"%" in raw_path:
        lowered = raw_path.lower()
        if b"%5c" in lowered or (b"%2f" in lowered and not path.startswith(MODELS_PREFIX)):
            return ENCODED_SEPARATOR
    return None
