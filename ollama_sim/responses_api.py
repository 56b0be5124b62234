"""``POST /v1/responses``: OpenAI's Responses API as Ollama translates it to a native chat.

``input`` is a string (one user message) or a list of items: messages (with ``type: "message"`` or just a
``role``), whose content is a string or ``input_text``/``output_text``/``input_image`` parts, and function
call outputs. ``instructions`` becomes a leading system message; ``max_output_tokens`` becomes
``num_predict``. Streaming is off unless ``"stream": true``.
"""

from __future__ import annotations

from typing import Any

from ollama_sim import render_responses
from ollama_sim.config import SimConfig
from ollama_sim.godecode import BOOL, STRING, GoStruct
from ollama_sim.inference import Inference
from ollama_sim.openai_api import Refusal, answered, decode_openai, openai_errors
from ollama_sim.render_responses import Echo
from ollama_sim.request import Request
from ollama_sim.wire import Response

RESPONSES = GoStruct("openai.ResponsesRequest", {"model": STRING, "instructions": STRING, "stream": BOOL})
EFFORTS = ("none", "low", "medium", "high", "max")
PART_TYPES = ("input_text", "output_text", "input_image", "input_file")


def _content(index: int, content: Any) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise Refusal(f"input[{index}]: content must be a string or array")
    texts = []
    for position, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in PART_TYPES:
            raise Refusal(f"input[{index}]: content[{position}]: unknown content type: {kind or ''}")
        if kind == "input_file":
            raise Refusal("file inputs are not currently supported")
        texts.append(str(part.get("text") or ""))
    return "".join(texts)


def _item(index: int, item: Any) -> dict[str, str] | None:
    if not isinstance(item, dict):
        raise Refusal(f"input[{index}]: input item missing required 'type' field")
    kind = item.get("type") or ("message" if item.get("role") else "")
    if kind == "message":
        return {"role": str(item.get("role") or ""), "content": _content(index, item.get("content"))}
    if kind == "function_call_output":
        return {"role": "tool", "content": _content(index, item.get("output"))}
    if kind in ("function_call", "reasoning"):
        return None
    if not kind:
        raise Refusal(f"input[{index}]: input item missing required 'type' field")
    raise Refusal(f'input[{index}]: unknown input item type: "{kind}"')


def native_messages(body: dict[str, Any]) -> list[dict[str, str]]:
    """The native chat messages ``openai.FromResponsesRequest`` builds."""
    messages = [{"role": "system", "content": body["instructions"]}] if body.get("instructions") else []
    raw = body.get("input")
    if isinstance(raw, str):
        if raw:
            messages.append({"role": "user", "content": raw})
    elif isinstance(raw, list):
        messages += [message for index, item in enumerate(raw) if (message := _item(index, item)) is not None]
    elif raw is not None:
        raise Refusal("input must be a string or array")
    return messages


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 1.0


def echo_of(body: dict[str, Any]) -> Echo:
    """The request fields the response repeats back, with Ollama's defaults."""
    raw_reasoning = body.get("reasoning")
    reasoning: dict[str, Any] = raw_reasoning if isinstance(raw_reasoning, dict) else {}
    effort, summary = reasoning.get("effort") or None, reasoning.get("summary") or None
    if effort is not None and effort not in EFFORTS:
        raise Refusal(f'invalid reasoning value: "{effort}" (must be "high", "medium", "low", "max", or "none")')
    text = body.get("text")
    text_format = text.get("format") if isinstance(text, dict) and isinstance(text.get("format"), dict) else None
    limit = body.get("max_output_tokens")
    return Echo(
        instructions=body.get("instructions") or None,
        truncation=str(body.get("truncation") or "disabled"),
        tools=tuple(body.get("tools") or ()),
        text_format=text_format or {"type": "text"},
        reasoning={"effort": effort, "summary": summary} if effort or summary else None,
        top_p=_number(body.get("top_p")),
        temperature=_number(body.get("temperature")),
        max_output_tokens=limit if isinstance(limit, int) and not isinstance(limit, bool) else None,
        background=body.get("background") is True,
    )


class ResponsesApi:
    """The ``/v1/responses`` handler of one simulator."""

    def __init__(self, config: SimConfig, inference: Inference) -> None:
        self.config = config
        self.inference = inference

    @openai_errors
    def create(self, request: Request) -> Response:
        """``POST /v1/responses``."""
        body = decode_openai(request, RESPONSES)
        echo = echo_of(body)
        native: dict[str, Any] = {"model": body.get("model") or "", "messages": native_messages(body)}
        if echo.max_output_tokens is not None:
            native["options"] = {"num_predict": echo.max_output_tokens}
        answer = self.inference.chat(native)
        gen = answered(answer, 0)
        if body.get("stream") is True:
            return render_responses.stream(answer.model, gen, echo)
        return render_responses.body(answer.model, gen, echo)
