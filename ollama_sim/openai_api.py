"""The OpenAI-compatible routes: chat completions, completions, embeddings and models (https://github.com/ollama/ollama/blob/main/middleware/openai.go).

Like Ollama's middleware, each converts the request into a native one, runs the same inference, and
re-shapes the answer. Refusals by the middleware itself (bad body, empty ``messages``, bad
``encoding_format``) and errors from the native handler come back in OpenAI's error shape, with the two
slightly different encodings of :mod:`ollama_sim.errors`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import wraps
from typing import Any

from config.model_names import InvalidModelNameError, parse_model_name
from ollama_sim import render_openai
from ollama_sim.clock import unix_seconds
from ollama_sim.config import SimConfig
from ollama_sim.errors import ApiError, openai_error, openai_refusal
from ollama_sim.generation import Generation, embed, prompt_tokens
from ollama_sim.godecode import BOOL, MAP, STRING, BodyError, GoStruct, decode_body
from ollama_sim.gojson import go_json_bytes, go_str_cached
from ollama_sim.inference import Answer, Inference
from ollama_sim.request import Request
from ollama_sim.store import SimState
from ollama_sim.wire import PLAIN_JSON, Fixed, Response

CHAT = GoStruct(
    "openai.ChatCompletionRequest",
    {"model": STRING, "stream": BOOL, "messages": ("[]openai.Message", (list,)), "stream_options": MAP},
)
COMPLETION = GoStruct("openai.CompletionRequest", {"model": STRING, "prompt": STRING, "stream": BOOL})
EMBEDDINGS = GoStruct("openai.EmbedRequest", {"model": STRING, "encoding_format": STRING})


class Refusal(Exception):
    """The OpenAI middleware refuses the request before the native handler runs."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def decode_openai(request: Request, struct_: GoStruct) -> dict[str, Any]:
    """The JSON body; a bad one is a :class:`Refusal` carrying Go's decoder text (``EOF`` when empty)."""
    try:
        return decode_body(request.body, struct_)
    except BodyError as error:
        raise Refusal(error.message) from None


def openai_errors(handler: Callable[[Any, Request], Response]) -> Callable[[Any, Request], Response]:
    """Render refusals as 400 from gin, and native errors as the OpenAI writer re-encodes them."""

    @wraps(handler)
    def wrapper(self: Any, request: Request) -> Response:
        try:
            return handler(self, request)
        except Refusal as refusal:
            return openai_refusal(400, refusal.message)
        except ApiError as error:
            return openai_error(error.status, error.message)

    return wrapper


def _content_texts(role: str, content: Any, has_tool_calls: bool) -> list[dict[str, str]]:
    """``openai.FromChatRequest``: string content, or text/image parts as separate native messages."""
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    if isinstance(content, list):
        messages = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") not in ("text", "image_url"):
                raise Refusal("invalid message format")
            text = part.get("text") if part["type"] == "text" else ""
            if not isinstance(text, str):
                raise Refusal("invalid message format")
            messages.append({"role": role, "content": text})
        return messages
    if has_tool_calls:
        return [{"role": role, "content": ""}]
    kinds = {type(None): "<nil>", bool: "bool", int: "float64", float: "float64", dict: "map[string]interface {}"}
    raise Refusal(f"invalid message content type: {kinds.get(type(content), 'string')}")


def native_messages(messages: list[Any]) -> list[dict[str, str]]:
    """OpenAI messages as the native chat messages Ollama derives from them."""
    converted: list[dict[str, str]] = []
    for message in messages:
        if not isinstance(message, dict):
            raise Refusal("json: cannot unmarshal value into Go struct field of type openai.Message")
        role = str(message.get("role") or "")
        converted += _content_texts(role, message.get("content"), bool(message.get("tool_calls")))
    return converted


def _options(limit: Any) -> dict[str, Any]:
    return {"num_predict": limit} if isinstance(limit, int) and not isinstance(limit, bool) else {}


def answered(answer: Answer, step_ns: int) -> Generation:
    """The answer's generation; the load reply of an empty prompt becomes an empty one."""
    return answer.gen if answer.gen is not None else Generation((), 0, step_ns, ())


class OpenAiApi:
    """Handlers for the ``/v1`` chat, completion, embedding and model routes of one simulator."""

    def __init__(self, config: SimConfig, state: SimState, inference: Inference) -> None:
        self.config = config
        self.state = state
        self.inference = inference

    @openai_errors
    def chat(self, request: Request) -> Response:
        """``POST /v1/chat/completions``."""
        body = decode_openai(request, CHAT)
        messages = body.get("messages") or []
        if not messages:
            raise Refusal("[] is too short - 'messages'")
        native = {"model": body.get("model") or "", "messages": native_messages(messages)}
        native["options"] = _options(body.get("max_tokens"))
        answer = self.inference.chat(native)
        gen = answered(answer, 0)
        if body.get("stream") is True:
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return render_openai.chat_stream(answer.model, gen, answer.reason, usage)
        return render_openai.chat_body(answer.model, gen, answer.reason)

    @openai_errors
    def completions(self, request: Request) -> Response:
        """``POST /v1/completions``."""
        body = decode_openai(request, COMPLETION)
        native = {"model": body.get("model") or "", "prompt": body.get("prompt") or ""}
        native["options"] = _options(body.get("max_tokens"))
        answer = self.inference.generate(native)
        gen = answered(answer, 0)
        if body.get("stream") is True:
            options = body.get("stream_options")
            usage = bool(options.get("include_usage")) if isinstance(options, dict) else False
            return render_openai.completion_stream(answer.model, gen, answer.reason, usage)
        return render_openai.completion_body(answer.model, gen, answer.reason)

    @openai_errors
    def embeddings(self, request: Request) -> Response:
        """``POST /v1/embeddings``: floats, or base64 of little-endian float32 with ``encoding_format``."""
        body = decode_openai(request, EMBEDDINGS)
        encoding = str(body.get("encoding_format") or "")
        if encoding and encoding.lower() not in ("float", "base64"):
            message = f"Invalid value for 'encoding_format' = {encoding}. Supported values: ['float', 'base64']."
            raise Refusal(message)
        raw = body.get("input")
        if raw == "":
            raw = [""]
        if raw is None or raw == []:
            raise Refusal("invalid input")
        model = str(body.get("model") or "")
        facts, inputs = self.inference.embed_inputs({"model": model, "input": raw})
        size = self.config.embedding_length
        dims = body.get("dimensions")
        if isinstance(dims, int) and not isinstance(dims, bool) and 0 < dims < size:
            size = dims
        vectors = [embed(facts.key, text, size) for text in inputs]
        as_base64 = encoding.lower() == "base64"
        items = [f'"{base64.b64encode(vector.raw).decode()}"' if as_base64 else vector.json for vector in vectors]
        data = ",".join(
            f'{{"object":"embedding","embedding":{item},"index":{index}}}' for index, item in enumerate(items)
        )
        count = prompt_tokens(tuple(inputs))
        usage = f'{{"prompt_tokens":{count},"total_tokens":{count}}}'
        text = f'{{"object":"list","data":[{data}],"model":{go_str_cached(model)},"usage":{usage}}}\n'
        return Fixed(200, PLAIN_JSON, text.encode())

    def models(self, request: Request) -> Response:
        """``GET /v1/models``: the tags listing in OpenAI's shape."""
        return Fixed(200, PLAIN_JSON, self.state.v1_models_body())

    @openai_errors
    def model(self, request: Request) -> Response:
        """``GET /v1/models/{model}``: ids may contain ``/``, sent plain or percent-encoded."""
        model = request.path.removeprefix("/v1/models/")
        try:
            namespace = parse_model_name(model).namespace
        except InvalidModelNameError:
            raise ApiError(400, "invalid model name") from None
        facts = self.state.lookup(model)
        if facts is None:
            raise ApiError(404, f"model '{model}' not found")
        entry = {"id": model, "object": "model", "created": unix_seconds(facts.modified_ns), "owned_by": namespace}
        return Fixed(200, PLAIN_JSON, go_json_bytes(entry) + b"\n")
