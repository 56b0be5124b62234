"""Anthropic's Messages API, ``POST /v1/messages``, as Ollama serves it (``AnthropicMessagesMiddleware`` in
https://github.com/ollama/ollama/blob/main/middleware/anthropic.go; supported fields and events in
https://github.com/ollama/ollama/blob/main/docs/api/anthropic-compatibility.mdx).

Like the middleware, it decodes ``anthropic.MessagesRequest`` (400 with Go's decoder text on a bad body),
refuses a missing ``model`` (``model is required``), a ``max_tokens`` that is not positive and empty
``messages``, converts the messages to a native chat (string or text-block content, ``system`` as a string
or text blocks, base64 images only, ``tool_use`` blocks needing ``id`` and ``name``; ``max_tokens`` becomes
``num_predict``), runs the same chat as ``/api/chat``, and re-shapes the answer
(:mod:`ollama_sim.render_anthropic`). ``thinking`` and ``tools`` are accepted; the simulated models neither
think nor call tools, and Ollama relaxes thinking for this route, so they change nothing here. The key in
``x-api-key`` is accepted and not checked, as Ollama does.
"""

from __future__ import annotations

from typing import Any

from ollama_sim import render_anthropic
from ollama_sim.config import SimConfig
from ollama_sim.errors import ApiError
from ollama_sim.godecode import BOOL, STRING, BodyError, GoStruct, decode_body
from ollama_sim.inference import Inference
from ollama_sim.openai_api import answered
from ollama_sim.request import Request
from ollama_sim.wire import Response

MESSAGES = GoStruct(
    "anthropic.MessagesRequest",
    {
        "model": STRING,
        "max_tokens": ("int", (int,)),
        "messages": ("[]anthropic.MessageParam", (list,)),
        "stream": BOOL,
    },
)


class Refusal(Exception):
    """The middleware refuses the request before the chat handler runs."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _block_text(block: Any) -> str:
    """The text a content block adds to its message; the blocks Ollama refuses are refused."""
    if not isinstance(block, dict):
        raise Refusal("json: cannot unmarshal value into Go value of type anthropic.ContentBlock")
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text") or "")
    if kind == "image":
        source = block.get("source")
        if not isinstance(source, dict):
            raise Refusal("invalid image source")
        if source.get("type") != "base64":
            raise Refusal(f"invalid image source type: {source.get('type') or ''}. Only base64 images are supported.")
    elif kind == "tool_use":
        for field in ("id", "name"):
            if not block.get(field):
                raise Refusal(f"tool_use block missing required '{field}' field")
    return ""


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(_block_text(block) for block in content)
    return ""


def native_messages(body: dict[str, Any]) -> list[dict[str, str]]:
    """The system prompt and messages as the native chat messages Ollama derives from them."""
    system = body.get("system")
    messages = []
    if isinstance(system, str) and system:
        messages.append({"role": "system", "content": system})
    elif isinstance(system, list) and (text := _content_text([b for b in system if isinstance(b, dict)])):
        messages.append({"role": "system", "content": text})
    for message in body["messages"]:
        if not isinstance(message, dict):
            raise Refusal("json: cannot unmarshal value into Go value of type anthropic.MessageParam")
        role = str(message.get("role") or "").lower()
        messages.append({"role": role, "content": _content_text(message.get("content"))})
    return messages


def estimated_input_tokens(body: dict[str, Any]) -> int:
    """Ollama's estimate for ``message_start``: a quarter of the characters, at least 1."""
    system = body.get("system")
    total = len(system) if isinstance(system, str) else 0
    for message in body["messages"]:
        if isinstance(message, dict):
            total += len(str(message.get("role") or "")) + len(_content_text(message.get("content")))
    return max(1, total // 4)


class AnthropicApi:
    """The handler of ``/v1/messages`` for one simulator."""

    def __init__(self, config: SimConfig, inference: Inference) -> None:
        self.config = config
        self.inference = inference

    def messages(self, request: Request) -> Response:
        """``POST /v1/messages``: refusals from the middleware, errors from the chat handler, or the answer."""
        try:
            body = decode_body(request.body, MESSAGES)
            if not body.get("model"):
                raise Refusal("model is required")
            max_tokens = body.get("max_tokens")
            if not isinstance(max_tokens, int) or max_tokens <= 0:
                raise Refusal("max_tokens is required and must be positive")
            if not body.get("messages"):
                raise Refusal("messages is required")
            native = {"model": body["model"], "messages": native_messages(body)}
            native["options"] = {"num_predict": max_tokens}
        except (BodyError, Refusal) as refusal:
            return render_anthropic.refusal(400, refusal.message)
        try:
            answer = self.inference.chat(native)
        except ApiError as error:
            return render_anthropic.error(error.status, error.message)
        gen = answered(answer, 0)
        if body.get("stream") is True:
            return render_anthropic.message_stream(answer.model, gen, answer.reason, estimated_input_tokens(body))
        return render_anthropic.message_body(answer.model, gen, answer.reason)
