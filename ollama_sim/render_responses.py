"""``/v1/responses`` answers: the SSE event sequence and the non-streamed response object.

Ollama's stream converter (``openai/responses.go``) writes ``event: <type>\\ndata: <json>\\n\\n`` with no
``[DONE]`` (https://github.com/ollama/ollama/blob/main/middleware/openai.go): ``response.created`` and
``response.in_progress`` first, the output item and content part with the first text, one
``response.output_text.delta`` per token, then the ``*.done`` events and ``response.completed``. Its payloads
are Go maps, so their keys come out sorted; the non-streamed body is a Go struct and keeps declaration order.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from ollama_sim.clock import SIM_EPOCH_NS, unix_seconds
from ollama_sim.generation import Generation
from ollama_sim.gojson import go_json
from ollama_sim.wire import PLAIN_JSON, SSE, Fixed, Stream

STREAM_HEADERS = (("Cache-Control", "no-cache"), ("Connection", "keep-alive"))


@dataclass(frozen=True, slots=True)
class Echo:
    """Request fields the response object repeats back.

    Attributes:
        instructions: the system instructions, or ``None``.
        truncation: ``disabled`` unless the request set it.
        tools: the request's tools as sent.
        text_format: ``{"type": "text"}`` unless the request set ``text.format``.
        reasoning: ``{"effort", "summary"}`` when the request set either, else ``None``.
        top_p, temperature: the request's values, 1 by default.
        max_output_tokens: the request's limit, or ``None``.
        background: the request's flag.
    """

    instructions: str | None
    truncation: str
    tools: tuple[Any, ...]
    text_format: dict[str, Any]
    reasoning: dict[str, Any] | None
    top_p: float
    temperature: float
    max_output_tokens: int | None
    background: bool


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [_sorted(item) for item in value]
    return value


def _ids(model: str, gen: Generation) -> tuple[str, str]:
    crc = zlib.crc32((model + gen.text).encode())
    return f"resp_{crc % 999999}", f"msg_{(crc >> 7) % 999999}"


def _usage(gen: Generation) -> dict[str, Any]:
    prompt, output = gen.prompt_eval_count, len(gen.tokens)
    return {
        "input_tokens": prompt,
        "output_tokens": output,
        "total_tokens": prompt + output,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": 0},
    }


def _part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _message(item_id: str, status: str, content: list[Any]) -> dict[str, Any]:
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": content}


def _response(echo: Echo, ident: str, model: str, *, status: str, output: Any, usage: Any) -> dict[str, Any]:
    """The response object; keys in ``ResponsesResponse`` order (times are filled in by the caller)."""
    return {
        "id": ident,
        "object": "response",
        "created_at": 0,
        "completed_at": None,
        "status": status,
        "incomplete_details": None,
        "model": model,
        "previous_response_id": None,
        "instructions": echo.instructions,
        "output": output,
        "error": None,
        "tools": list(echo.tools),
        "tool_choice": "auto",
        "truncation": echo.truncation,
        "parallel_tool_calls": True,
        "text": {"format": echo.text_format},
        "top_p": echo.top_p,
        "presence_penalty": 0,
        "frequency_penalty": 0,
        "top_logprobs": 0,
        "temperature": echo.temperature,
        "reasoning": echo.reasoning,
        "usage": usage,
        "max_output_tokens": echo.max_output_tokens,
        "max_tool_calls": None,
        "store": False,
        "background": echo.background,
        "service_tier": "default",
        "metadata": {},
        "safety_identifier": None,
        "prompt_cache_key": None,
    }


class _Events:
    """Numbers events in order and renders each as one SSE event."""

    def __init__(self) -> None:
        self.sequence = 0

    def __call__(self, kind: str, data: dict[str, Any]) -> str:
        data = {**data, "type": kind, "sequence_number": self.sequence}
        self.sequence += 1
        return f"event: {kind}\ndata: {go_json(_sorted(data))}\n\n"


def stream(model: str, gen: Generation, echo: Echo) -> Stream:
    """The SSE stream: one write per token delta, openers with the first, closers with the end."""
    ident, item = _ids(model, gen)
    event = _Events()
    opening = _response(echo, ident, model, status="in_progress", output=[], usage=None)
    opening["created_at"] = unix_seconds(SIM_EPOCH_NS)
    start = event("response.created", {"response": opening}) + event("response.in_progress", {"response": opening})
    where = {"item_id": item, "output_index": 0, "content_index": 0}
    lines: list[str] = []
    for index, token in enumerate(gen.tokens):
        line = ""
        if index == 0:
            line = start + event(
                "response.output_item.added", {"output_index": 0, "item": _message(item, "in_progress", [])}
            )
            line += event("response.content_part.added", {**where, "part": _part("")})
        lines.append(line + event("response.output_text.delta", {**where, "delta": token, "logprobs": []}))
    closing = start if not gen.tokens else ""
    output: list[Any] | None = None
    if gen.tokens:
        output = [_message(item, "completed", [_part(gen.text)])]
        closing += event("response.output_text.done", {**where, "text": gen.text, "logprobs": []})
        closing += event("response.content_part.done", {**where, "part": _part(gen.text)})
        closing += event("response.output_item.done", {"output_index": 0, "item": output[0]})
    final = _response(echo, ident, model, status="completed", output=output, usage=_usage(gen))
    final["created_at"], final["completed_at"] = unix_seconds(SIM_EPOCH_NS), unix_seconds(gen.done_ns)
    lines.append(closing + event("response.completed", {"response": final}))
    return Stream(SSE, tuple(line.encode() for line in lines), paced=True, headers=STREAM_HEADERS)


def body(model: str, gen: Generation, echo: Echo) -> Fixed:
    """The non-streamed response object (``openai.ToResponse``), ``application/json`` plus newline."""
    ident, item = _ids(model, gen)
    output = [_message(item, "completed", [_part(gen.text)])]
    response = _response(echo, ident, model, status="completed", output=output, usage=_usage(gen))
    response["created_at"] = response["completed_at"] = unix_seconds(gen.done_ns)
    if echo.reasoning is not None:  # a struct with omitempty pointers here, a map with nulls in the stream
        response["reasoning"] = {key: value for key, value in echo.reasoning.items() if value is not None}
    return Fixed(200, PLAIN_JSON, (go_json(response) + "\n").encode())
