"""The route table and the gin behaviour around it: Host check, OPTIONS, 404/405, trailing-slash redirects.

Order of decisions, as in Ollama's server (https://github.com/ollama/ollama/blob/main/server/routes.go): the
Host check (loopback listeners only; 403, no body), then (only with ``SimConfig.token``, standing in for a
reverse proxy in front of Ollama) the bearer token check (401), ``OPTIONS`` answered 204, then routing. An
unknown path is gin's ``404 page not found`` and a known path with another method ``405 method not allowed``, both
``text/plain``; a path that only differs by a trailing slash is redirected (301 for GET, 307 otherwise), gin's
``RedirectTrailingSlash``. An injected ``Faults.status`` then replaces the answer of every ``/api`` and
``/v1`` route. With a scheduler (:mod:`ollama_sim.scheduler`), :meth:`App.admit` gives each generate, chat
and embed request its ticket before the handler runs.
"""

from __future__ import annotations

import json
from typing import Any

from ollama_sim import render_anthropic
from ollama_sim.admin_api import AdminApi
from ollama_sim.anthropic_api import AnthropicApi
from ollama_sim.config import Faults, SimConfig
from ollama_sim.errors import ApiError, fault_message, native_error, openai_error
from ollama_sim.hostcheck import host_allowed, listener_is_loopback
from ollama_sim.inference import Inference
from ollama_sim.keepalive import FOREVER_NS, keep_alive_ns
from ollama_sim.native_api import Handler, NativeApi
from ollama_sim.openai_api import OpenAiApi
from ollama_sim.request import Request
from ollama_sim.responses_api import ResponsesApi
from ollama_sim.scheduler import QueueFull, Scheduler, Ticket
from ollama_sim.store import SimState
from ollama_sim.wire import GIN_TEXT, HTML, JSON, TEXT, Fixed, Response

FORBIDDEN = Fixed(403, None, b"")
NO_CONTENT = Fixed(204, None, b"")
NOT_FOUND = Fixed(404, GIN_TEXT, b"404 page not found")
METHOD_NOT_ALLOWED = Fixed(405, GIN_TEXT, b"405 method not allowed")
MISSING_HOST = Fixed(400, TEXT, b"400 Bad Request: missing required Host header")
UNAUTHORIZED = Fixed(401, JSON, b'{"error":"unauthorized"}')
BLOBS = "/api/blobs/"
V1_MODEL = "/v1/models/"
SCHEDULED = {
    "/api/generate": "prompt",
    "/api/chat": "messages",
    "/api/embed": "input",
    "/api/embeddings": "prompt",
    "/v1/chat/completions": "messages",
    "/v1/completions": "prompt",
    "/v1/embeddings": "input",
    "/v1/responses": "input",
}
"""Paths that run a model, and the field that holds what to run it on (empty: a load or an unload)."""
BUSY = "server busy, please try again.  maximum pending requests exceeded"


class App:
    """Maps a :class:`Request` to a response for one simulator."""

    def __init__(self, config: SimConfig, faults: Faults, state: SimState) -> None:
        self.faults = faults
        self.state = state
        self.scheduler = None if config.scheduler is None else Scheduler(config.scheduler, state)
        self._generation_s = config.tokens / config.token_rate if config.token_rate > 0 else 0.0
        self.check_host = listener_is_loopback(config.host)
        self.authorization = f"Bearer {config.token}" if config.token is not None else None
        inference = Inference(config, state)
        native = NativeApi(config, state, inference)
        admin = AdminApi(state)
        openai = OpenAiApi(config, state, inference)
        responses = ResponsesApi(config, inference)
        anthropic = AnthropicApi(config, inference)
        self.routes: dict[str, dict[str, Handler]] = {
            "/": {"GET": native.root, "HEAD": native.root},
            "/api/version": {"GET": native.version, "HEAD": native.version},
            "/api/status": {"GET": native.status},
            "/api/tags": {"GET": native.tags, "HEAD": native.tags},
            "/api/ps": {"GET": native.ps},
            "/api/show": {"POST": native.show},
            "/api/generate": {"POST": native.generate},
            "/api/chat": {"POST": native.chat},
            "/api/embed": {"POST": native.embed},
            "/api/embeddings": {"POST": native.embeddings},
            "/api/pull": {"POST": admin.pull},
            "/api/push": {"POST": admin.push},
            "/api/create": {"POST": admin.create},
            "/api/copy": {"POST": admin.copy},
            "/api/delete": {"DELETE": admin.delete},
            "/v1/chat/completions": {"POST": openai.chat},
            "/v1/completions": {"POST": openai.completions},
            "/v1/embeddings": {"POST": openai.embeddings},
            "/v1/models": {"GET": openai.models},
            "/v1/responses": {"POST": responses.create},
            "/v1/messages": {"POST": anthropic.messages},
        }
        self.blobs: dict[str, Handler] = {"HEAD": admin.blob_head, "POST": admin.blob_post}
        self.v1_model: dict[str, Handler] = {"GET": openai.model}

    def match(self, path: str) -> dict[str, Handler] | None:
        """The handlers by method for ``path`` (``:digest`` is one segment; model ids may hold ``/``)."""
        methods = self.routes.get(path)
        if methods is not None:
            return methods
        if path.startswith(BLOBS) and len(path) > len(BLOBS) and "/" not in path[len(BLOBS) :]:
            return self.blobs
        if path.startswith(V1_MODEL) and len(path) > len(V1_MODEL):
            return self.v1_model
        return None

    def handle(self, request: Request) -> Response:
        """Answer ``request`` as Ollama would (the connection layer handles ``hang`` and delays)."""
        headers = request.headers
        if "host" not in headers and not request.http10:
            request.keep_alive = False
            return MISSING_HOST
        if self.check_host and not host_allowed(headers.get("host", "")):
            return FORBIDDEN
        if self.authorization is not None and headers.get("authorization") != self.authorization:
            return UNAUTHORIZED
        if request.method == "OPTIONS":
            return NO_CONTENT
        path = request.path
        methods = self.match(path)
        if methods is None:
            return self._unmatched(request, path)
        handler = methods.get(request.method)
        if handler is None:
            return METHOD_NOT_ALLOWED
        status = self.faults.status
        if status is not None and path != "/":
            message = fault_message(status)
            if path == "/v1/messages":
                return render_anthropic.error(status, message)
            return openai_error(status, message) if path.startswith("/v1/") else native_error(status, message)
        return handler(request)

    def admit(self, request: Request) -> Ticket | Response | None:
        """With a scheduler: the ticket a model-running request waits on, a 503 when its queue is full,
        or None (no scheduler, not such a request, or one the handler refuses or unloads with)."""
        field = SCHEDULED.get(request.path) if self.scheduler is not None and request.method == "POST" else None
        if self.scheduler is None or field is None:
            return None
        try:
            body: Any = json.loads(request.body)
            facts = self.state.lookup(body["model"])
            keep_ns = keep_alive_ns(body.get("keep_alive"))
        except (ValueError, TypeError, KeyError, ApiError):
            return None
        if facts is None:
            return None
        if keep_ns == 0 and not body.get(field):
            self.scheduler.expire(facts)
            return None
        keep_alive = None if keep_ns is None else (float("inf") if keep_ns == FOREVER_NS else keep_ns / 1e9)
        try:
            ticket = self.scheduler.request(facts, keep_alive)
        except QueueFull:
            return native_error(503, BUSY) if request.path.startswith("/api/") else openai_error(503, BUSY)
        streamed = body.get("stream", request.path.startswith("/api/")) is not False
        if not streamed and field in ("prompt", "messages") and "embed" not in request.path:
            ticket.hold = self._generation_s
        return ticket

    def _unmatched(self, request: Request, path: str) -> Response:
        """A trailing-slash redirect when the other spelling is routed for this method, else 404."""
        other = path[:-1] if path.endswith("/") else path + "/"
        methods = self.match(other) if other else None
        if methods is None or request.method not in methods or request.method == "CONNECT":
            return NOT_FOUND
        location = other + (f"?{request.query}" if request.query else "")
        if request.method in ("GET", "HEAD"):
            body = f'<a href="{location}">Moved Permanently</a>.\n\n'.encode()
            return Fixed(301, HTML, body, (("Location", location),))
        return Fixed(307, None, b"", (("Location", location),))
