"""The model-management routes: pull, push, create, copy, delete and blobs (https://github.com/ollama/ollama/blob/main/server/routes.go).

Pull, push and create stream NDJSON progress ending in ``{"status":"success"}``; with ``stream:false``
only the last object comes back, as ``application/json`` (``waitForStream``). A pull of any valid name
succeeds (there is no registry here) and installs the model. Copy and delete answer 200 with an empty
body, which is what the ``ollama`` client's ``copy``/``delete`` test for. Blobs are checked by digest.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from config.model_names import InvalidModelNameError, parse_model_name
from ollama_sim.errors import ApiError, native_error
from ollama_sim.godecode import BOOL, STRING, GoStruct
from ollama_sim.gojson import go_json_bytes, go_quote
from ollama_sim.modelinfo import ModelFacts
from ollama_sim.native_api import decode_native, native_errors
from ollama_sim.request import Request
from ollama_sim.store import SimState
from ollama_sim.wire import NDJSON, PLAIN_JSON, Fixed, Response, Stream

PULL = GoStruct("api.PullRequest", {"model": STRING, "name": STRING, "stream": BOOL})
PUSH = GoStruct("api.PushRequest", {"model": STRING, "name": STRING, "stream": BOOL})
CREATE = GoStruct("api.CreateRequest", {"model": STRING, "name": STRING, "from": STRING, "stream": BOOL})
COPY = GoStruct("api.CopyRequest", {"source": STRING, "destination": STRING})
DELETE = GoStruct("api.DeleteRequest", {"model": STRING, "name": STRING})
DIGEST = re.compile(r"^sha256[:-][0-9a-fA-F]{64}$")
MISSING_MANIFEST = "file does not exist"
"""What a push of a model that is not installed reports in the stream (an ``os.ErrNotExist``)."""


def _valid(name: str) -> bool:
    try:
        parse_model_name(name)
    except InvalidModelNameError:
        return False
    return True


def _layers(facts: ModelFacts) -> list[tuple[str, int]]:
    """Digest and size of each layer: the weights, then template, params and license."""
    parts = (("weights", facts.size - 1_400), ("template", 1_168), ("params", 96), ("license", 136))
    return [(hashlib.sha256(f"{facts.digest}:{role}".encode()).hexdigest(), size) for role, size in parts]


def _progress(statuses: list[dict[str, Any]], stream: bool) -> Response:
    """An NDJSON progress stream, or its last object for ``stream:false``."""
    if not stream:
        return Fixed(200, PLAIN_JSON, go_json_bytes(statuses[-1]))
    lines = tuple(go_json_bytes(status) + b"\n" for status in statuses)
    return Stream(NDJSON, lines, paced=False)


def _transfer(verb: str, facts: ModelFacts) -> list[dict[str, Any]]:
    statuses: list[dict[str, Any]] = []
    for digest, size in _layers(facts):
        status = f"{verb} {digest[:12]}"
        for done in (0, size // 2, size):
            entry: dict[str, Any] = {"status": status, "digest": f"sha256:{digest}", "total": size}
            if done:
                entry["completed"] = done
            statuses.append(entry)
    return statuses


class AdminApi:
    """Handlers for the model-management routes of one simulator."""

    def __init__(self, state: SimState) -> None:
        self.state = state

    @native_errors
    def pull(self, request: Request) -> Response:
        """``POST /api/pull``: progress per layer, then the model is installed."""
        body = decode_native(request, PULL)
        name = str(body.get("model") or body.get("name") or "")
        if not _valid(name):
            raise ApiError(400, "invalid model name")
        facts = self.state.add(name)
        statuses: list[dict[str, Any]] = [{"status": "pulling manifest"}, *_transfer("pulling", facts)]
        statuses += [{"status": "verifying sha256 digest"}, {"status": "writing manifest"}, {"status": "success"}]
        return _progress(statuses, body.get("stream") is not False)

    @native_errors
    def push(self, request: Request) -> Response:
        """``POST /api/push``: progress per layer; a model that is not installed fails in the stream."""
        body = decode_native(request, PUSH)
        name = str(body.get("model") or body.get("name") or "")
        if not name:
            raise ApiError(400, "model is required")
        facts = self.state.lookup(name)
        stream = body.get("stream") is not False
        if facts is None:
            if not stream:
                return native_error(500, MISSING_MANIFEST)
            lines = (b'{"status":"retrieving manifest"}\n', go_json_bytes({"error": MISSING_MANIFEST}) + b"\n")
            return Stream(NDJSON, lines, paced=False)
        statuses: list[dict[str, Any]] = [{"status": "retrieving manifest"}, *_transfer("pushing", facts)]
        statuses += [{"status": "pushing manifest"}, {"status": "success"}]
        return _progress(statuses, stream)

    @native_errors
    def create(self, request: Request) -> Response:
        """``POST /api/create``: from an installed model (``from``) or uploaded blobs (``files``)."""
        body = decode_native(request, CREATE)
        name = str(body.get("model") or body.get("name") or "")
        if not _valid(name):
            raise ApiError(400, "invalid model name")
        source = str(body.get("from") or "")
        raw_files = body.get("files")
        files: dict[str, Any] = raw_files if isinstance(raw_files, dict) else {}
        if not source and not files and not body.get("modelfile"):
            raise ApiError(400, "neither 'from' or 'files' was specified")
        like = self.state.lookup(source) if source else None
        statuses: list[dict[str, Any]] = [{"status": "gathering model components"}]
        if like is not None:
            statuses += [{"status": f"using existing layer sha256:{digest}"} for digest, _ in _layers(like)]
        statuses += [{"status": f"using existing layer {digest}"} for digest in sorted(map(str, files.values()))]
        self.state.add(name, like)
        statuses += [{"status": "writing manifest"}, {"status": "success"}]
        return _progress(statuses, body.get("stream") is not False)

    @native_errors
    def copy(self, request: Request) -> Response:
        """``POST /api/copy``: 200, empty body; the copy becomes the newest model."""
        body = decode_native(request, COPY)
        source, destination = str(body.get("source") or ""), str(body.get("destination") or "")
        if not _valid(source):
            raise ApiError(400, f"source {go_quote(source)} is invalid")
        if not _valid(destination):
            raise ApiError(400, f"destination {go_quote(destination)} is invalid")
        facts = self.state.lookup(source)
        if facts is None:
            raise ApiError(404, f"model {go_quote(source)} not found")
        self.state.add(destination, like=facts)
        return Fixed(200, None, b"")

    @native_errors
    def delete(self, request: Request) -> Response:
        """``DELETE /api/delete`` (JSON body): 200, empty body."""
        body = decode_native(request, DELETE)
        name = str(body.get("model") or body.get("name") or "")
        if not _valid(name):
            raise ApiError(400, f"name {go_quote(name)} is invalid")
        facts = self.state.lookup(name)
        if facts is None:
            raise ApiError(404, f"model '{name}' not found")
        self.state.remove(facts)
        return Fixed(200, None, b"")

    def _blob_key(self, digest: str) -> str:
        if not DIGEST.match(digest):
            raise ApiError(400, "invalid digest format")
        return "sha256:" + digest[7:].lower()

    @native_errors
    def blob_head(self, request: Request) -> Response:
        """``HEAD /api/blobs/:digest``: 200 if uploaded, else 404."""
        digest = request.path.rpartition("/")[2]
        if self._blob_key(digest) not in self.state.blobs:
            raise ApiError(404, f"blob {go_quote(digest)} not found")
        return Fixed(200, None, b"")

    @native_errors
    def blob_post(self, request: Request) -> Response:
        """``POST /api/blobs/:digest``: 201 Created, 200 if it exists, 400 on a digest mismatch."""
        digest = request.path.rpartition("/")[2]
        key = self._blob_key(digest)
        if key in self.state.blobs:
            return Fixed(200, None, b"")
        actual = "sha256:" + hashlib.sha256(request.body).hexdigest()
        if actual != digest:
            raise ApiError(400, f"digest mismatch, expected {go_quote(digest)}, got {go_quote(actual)}")
        self.state.blobs.add(key)
        return Fixed(201, None, b"")
