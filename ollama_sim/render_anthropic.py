"""``/v1/messages`` answers as bytes, shaped like Ollama's Anthropic writer (https://github.com/ollama/ollama/blob/main/anthropic/anthropic.go).

Streams are ``text/event-stream`` with named events, ``event: <type>\\ndata: <json>\\n\\n`` (``writeSSE`` in
``middleware/anthropic.go``): the first chunk of the chat stream opens the message (``message_start``, whose
``input_tokens`` is Ollama's estimate, a quarter of the request's characters) and the text block
(``content_block_start``), each token is a ``content_block_delta`` of type ``text_delta``, and the final chunk
closes the block and the message (``content_block_stop``, ``message_delta`` with ``stop_reason`` and usage,
``message_stop``). Ollama sends no ``ping``. Non-stream bodies are one ``message`` object from
``json.Encoder`` (``application/json`` plus a newline). Ids are random in Ollama and derived from the answer
here. Errors are ``{"type":"error","error":{"type","message"},"request_id"}``, typed by status as
``anthropic.NewError`` does.
"""

from __future__ import annotations

import hashlib

from ollama_sim.generation import Generation
from ollama_sim.gojson import go_json_bytes, go_str, go_str_cached
from ollama_sim.wire import JSON, PLAIN_JSON, SSE, Fixed, Stream

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    503: "overloaded_error",
    529: "overloaded_error",
}
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens"}


def _hex_id(prefix: str, *parts: str) -> str:
    return f"{prefix}_{hashlib.sha256(chr(0).join(parts).encode()).hexdigest()[:24]}"


def _error_document(status: int, message: str) -> dict[str, object]:
    error = {"type": _TYPES.get(status, "api_error"), "message": message}
    return {"type": "error", "error": error, "request_id": _hex_id("req", str(status), message)}


def refusal(status: int, message: str) -> Fixed:
    """An error the middleware raises itself (bad body, no model): gin's JSON, no newline."""
    return Fixed(status, JSON, go_json_bytes(_error_document(status, message)))


def error(status: int, message: str) -> Fixed:
    """A chat handler's error re-encoded by the Anthropic writer: ``application/json`` plus a newline."""
    return Fixed(status, PLAIN_JSON, go_json_bytes(_error_document(status, message)) + b"\n")


def _event(kind: str, data: str) -> str:
    return f"event: {kind}\ndata: {data}\n\n"


def _usage(input_tokens: int, output_tokens: int) -> str:
    return f'{{"input_tokens":{input_tokens},"output_tokens":{output_tokens}}}'


def message_stream(model: str, gen: Generation, reason: str, estimated_input: int) -> Stream:
    """The events of one streamed message, one write per token as Ollama flushes them."""
    message_id = _hex_id("msg", model, gen.text)
    start = _event(
        "message_start",
        f'{{"type":"message_start","message":{{"id":"{message_id}","type":"message","role":"assistant",'
        f'"model":{go_str_cached(model)},"content":[],"usage":{_usage(estimated_input, 0)}}}}}',
    )
    deltas = [
        _event(
            "content_block_delta",
            f'{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":{go_str_cached(token)}}}}}',
        )
        for token in gen.tokens
    ]
    if deltas:
        block = _event(
            "content_block_start", '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}'
        )
        deltas[0] = start + block + deltas[0]
        end = _event("content_block_stop", '{"type":"content_block_stop","index":0}')
    else:
        end = start
    stop = STOP_REASONS.get(reason, "stop_sequence" if reason else "")
    stop_field = f'"stop_reason":"{stop}"' if stop else ""
    end += _event(
        "message_delta",
        f'{{"type":"message_delta","delta":{{{stop_field}}},"usage":{_usage(gen.prompt_eval_count, len(gen.tokens))}}}',
    )
    end += _event("message_stop", '{"type":"message_stop"}')
    lines = [line.encode() for line in deltas] + [end.encode()]
    return Stream(SSE, tuple(lines), paced=True, headers=(("Cache-Control", "no-cache"),))


def message_body(model: str, gen: Generation, reason: str) -> Fixed:
    """A non-streamed ``message`` object."""
    content = f'[{{"type":"text","text":{go_str(gen.text)}}}]' if gen.text else "null"
    stop = STOP_REASONS.get(reason, "stop_sequence" if reason else "")
    stop_field = f',"stop_reason":"{stop}"' if stop else ""
    body = (
        f'{{"id":"{_hex_id("msg", model, gen.text)}","type":"message","role":"assistant",'
        f'"model":{go_str_cached(model)},"content":{content}{stop_field},'
        f'"usage":{_usage(gen.prompt_eval_count, len(gen.tokens))}}}\n'
    )
    return Fixed(200, PLAIN_JSON, body.encode())
