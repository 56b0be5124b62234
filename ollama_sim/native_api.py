"""The native read and inference routes: ``/``, version, tags, ps, show, generate, chat, embed(dings).

Each handler decodes the body like gin (:mod:`ollama_sim.godecode`), runs Ollama's checks, and answers in the
native error shape ``{"error": "..."}`` (https://github.com/ollama/ollama/blob/main/server/routes.go).
Streaming is the default for generate and chat; only an explicit ``"stream": false`` merges the answer into
one object.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from functools import wraps
from typing import Any

from config.model_names import InvalidModelNameError, parse_model_name
from ollama_sim import render_native
from ollama_sim.clock import LOAD_NS, PROMPT_TOKEN_NS, go_time
from ollama_sim.config import SimConfig
from ollama_sim.errors import ApiError, native_error
from ollama_sim.generation import embed, prompt_tokens
from ollama_sim.godecode import BOOL, MAP, STRING, BodyError, GoStruct, decode_body
from ollama_sim.gojson import go_float, go_json_bytes, go_quote, go_str_cached
from ollama_sim.inference import Inference
from ollama_sim.modelinfo import show_fields
from ollama_sim.request import Request
from ollama_sim.store import SimState
from ollama_sim.wire import JSON, TEXT, Fixed, Response

Handler = Callable[[Request], Response]

GENERATE = GoStruct(
    "api.GenerateRequest",
    {"model": STRING, "prompt": STRING, "system": STRING, "template": STRING, "stream": BOOL, "options": MAP},
)
CHAT = GoStruct("api.ChatRequest", {"model": STRING, "stream": BOOL, "options": MAP})
EMBED = GoStruct("api.EmbedRequest", {"model": STRING, "options": MAP})
EMBEDDINGS = GoStruct("api.EmbeddingRequest", {"model": STRING, "prompt": STRING, "options": MAP})
SHOW = GoStruct("api.ShowRequest", {"model": STRING, "name": STRING, "system": STRING, "options": MAP})


def decode_native(request: Request, struct_: GoStruct) -> dict[str, Any]:
    """The JSON body, or :class:`ApiError` 400 (``missing request body`` for an empty one)."""
    try:
        return decode_body(request.body, struct_)
    except BodyError as error:
        raise ApiError(400, "missing request body" if error.is_eof else error.message) from None


def native_errors(handler: Callable[[Any, Request], Response]) -> Callable[[Any, Request], Response]:
    """Render an :class:`ApiError` raised by ``handler`` as ``{"error": ...}`` with its status."""

    @wraps(handler)
    def wrapper(self: Any, request: Request) -> Response:
        try:
            return handler(self, request)
        except ApiError as error:
            return native_error(error.status, error.message)

    return wrapper


def _float64_of_float32(raw: bytes) -> str:
    """A float32 vector widened to float64, as the legacy ``/api/embeddings`` prints it."""
    values = struct.unpack(f"<{len(raw) // 4}f", raw)
    return "[" + ",".join(go_float(value) for value in values) + "]"


class NativeApi:
    """Handlers for the native read and inference routes of one simulator."""

    def __init__(self, config: SimConfig, state: SimState, inference: Inference) -> None:
        self.config = config
        self.state = state
        self.inference = inference
        self._version = Fixed(200, JSON, go_json_bytes({"version": config.version}))

    def root(self, request: Request) -> Response:
        """``GET /``: the heartbeat text."""
        return Fixed(200, TEXT, b"Ollama is running")

    def version(self, request: Request) -> Response:
        """``GET /api/version``."""
        return self._version

    def status(self, request: Request) -> Response:
        """``GET /api/status``: a local server with cloud models enabled by default."""
        return Fixed(200, JSON, b'{"cloud":{"disabled":false,"source":"default"}}')

    def tags(self, request: Request) -> Response:
        """``GET /api/tags``: installed models, newest first."""
        return Fixed(200, JSON, self.state.tags_body())

    def ps(self, request: Request) -> Response:
        """``GET /api/ps``: loaded models, longest remaining time first."""
        return Fixed(200, JSON, self.state.ps_body())

    @native_errors
    def show(self, request: Request) -> Response:
        """``POST /api/show``: ``model``, or the legacy ``name`` when ``model`` is empty."""
        body = decode_native(request, SHOW)
        model = body.get("model") or body.get("name") or ""
        if not model:
            raise ApiError(400, "model is required")
        try:
            parse_model_name(model)
        except InvalidModelNameError:
            raise ApiError(400, "invalid model name") from None
        facts = self.state.lookup(model)
        if facts is None:
            raise ApiError(404, f"model '{model}' not found")
        fields = show_fields(facts, self.config.embedding_length)
        fields["modified_at"] = go_time(facts.modified_ns, local=True)
        return Fixed(200, JSON, go_json_bytes(fields))

    @native_errors
    def generate(self, request: Request) -> Response:
        """``POST /api/generate``."""
        body = decode_native(request, GENERATE)
        answer = self.inference.generate(body)
        if answer.gen is None:
            return render_native.generate_status(answer.model, answer.reason)
        if body.get("stream") is False:
            return render_native.generate_merged(answer.model, answer.gen, answer.reason)
        return render_native.generate_stream(answer.model, answer.gen, answer.reason)

    @native_errors
    def chat(self, request: Request) -> Response:
        """``POST /api/chat``."""
        body = decode_native(request, CHAT)
        answer = self.inference.chat(body)
        if answer.gen is None:
            return render_native.chat_status(answer.model, answer.reason)
        if body.get("stream") is False:
            return render_native.chat_merged(answer.model, answer.gen, answer.reason)
        return render_native.chat_stream(answer.model, answer.gen, answer.reason)

    @native_errors
    def embed(self, request: Request) -> Response:
        """``POST /api/embed``: one unit vector per input (``dimensions`` shortens them)."""
        body = decode_native(request, EMBED)
        facts, inputs = self.inference.embed_inputs(body)
        model = go_str_cached(str(body.get("model") or ""))
        if not inputs:
            return Fixed(200, JSON, f'{{"model":{model},"embeddings":[]}}'.encode())
        size = self.embedding_size(body.get("dimensions"))
        vectors = ",".join(embed(facts.key, text, size).json for text in inputs)
        count = prompt_tokens(tuple(inputs))
        metrics = f'"total_duration":{LOAD_NS + count * PROMPT_TOKEN_NS},"load_duration":{LOAD_NS}'
        body_text = f'{{"model":{model},"embeddings":[{vectors}],{metrics},"prompt_eval_count":{count}}}'
        return Fixed(200, JSON, body_text.encode())

    def embedding_size(self, dimensions: object) -> int:
        """The vector length: the model's, or the requested ``dimensions`` when smaller."""
        size = self.config.embedding_length
        if isinstance(dimensions, int) and not isinstance(dimensions, bool) and 0 < dimensions < size:
            return dimensions
        return size

    @native_errors
    def embeddings(self, request: Request) -> Response:
        """``POST /api/embeddings`` (legacy): one float64 vector, empty for an empty prompt."""
        body = decode_native(request, EMBEDDINGS)
        model = str(body.get("model") or "")
        try:
            parse_model_name(model)
        except InvalidModelNameError:
            raise ApiError(400, "model is required") from None
        facts = self.state.lookup(model)
        if facts is None:
            raise ApiError(404, f"model {go_quote(model)} not found, try pulling it first")
        self.state.mark_loaded(facts, None)
        prompt = str(body.get("prompt") or "")
        if not prompt:
            return Fixed(200, JSON, b'{"embedding":[]}')
        vector = embed(facts.key, prompt, self.config.embedding_length)
        return Fixed(200, JSON, f'{{"embedding":{_float64_of_float32(vector.raw)}}}'.encode())
