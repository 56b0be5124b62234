"""``/v1/chat/completions`` and ``/v1/completions`` answers as bytes, shaped like Ollama's OpenAI writers.

Streams are ``text/event-stream`` with one ``data: <json>\\n\\n`` event per token, the final chunk carrying
``finish_reason``, then (with ``stream_options.include_usage``) a usage chunk with empty ``choices``, then
``data: [DONE]\\n\\n`` (https://github.com/ollama/ollama/blob/main/middleware/openai.go). Field order follows
``openai.ChatCompletionChunk`` and ``openai.CompletionChunk`` (whose ``choices`` come before ``model``).
Non-stream bodies are ``application/json`` with the trailing newline of Go's ``json.Encoder``.
"""

from __future__ import annotations

import zlib
from functools import lru_cache

from ollama_sim.clock import SIM_EPOCH_NS, unix_seconds
from ollama_sim.generation import Generation
from ollama_sim.gojson import go_json, go_str_cached
from ollama_sim.wire import PLAIN_JSON, SSE, Fixed, Stream

DONE = b"data: [DONE]\n\n"
_FINGERPRINT = '"system_fingerprint":"fp_ollama"'
_STREAM_CREATED = unix_seconds(SIM_EPOCH_NS)


def completion_id(prefix: str, model: str, gen: Generation) -> str:
    """``chatcmpl-<0..998>`` / ``cmpl-<0..998>``: random in Ollama, derived from the answer here."""
    return f"{prefix}-{zlib.crc32((model + gen.text).encode()) % 999}"


def _usage(gen: Generation) -> str:
    prompt, completion = gen.prompt_eval_count, len(gen.tokens)
    return f'{{"prompt_tokens":{prompt},"completion_tokens":{completion},"total_tokens":{prompt + completion}}}'


def _finish(reason: str) -> str:
    return f'"{reason}"' if reason else "null"


@lru_cache(maxsize=1024)
def chat_stream(model: str, gen: Generation, reason: str, include_usage: bool) -> Stream:
    """Chat completion chunks: one delta per token, the finishing chunk, usage, ``[DONE]``."""
    head = (
        f'data: {{"id":"{completion_id("chatcmpl", model, gen)}","object":"chat.completion.chunk",'
        f'"created":{_STREAM_CREATED},"model":{go_str_cached(model)},{_FINGERPRINT},"choices":'
    )
    lines = [
        f'{head}[{{"index":0,"delta":{{"role":"assistant","content":"{token}"}},"finish_reason":null}}]}}\n\n'.encode()
        for token in gen.tokens
    ]
    last = f'{head}[{{"index":0,"delta":{{"role":"assistant","content":""}},"finish_reason":{_finish(reason)}}}]}}\n\n'
    if include_usage:
        last += f'{head}[],"usage":{_usage(gen)}}}\n\n'
    lines.append(last.encode() + DONE)
    return Stream(SSE, tuple(lines), paced=True)


def chat_body(model: str, gen: Generation, reason: str) -> Fixed:
    """A non-streamed ``chat.completion`` object."""
    body = (
        f'{{"id":"{completion_id("chatcmpl", model, gen)}","object":"chat.completion",'
        f'"created":{unix_seconds(gen.done_ns)},"model":{go_str_cached(model)},{_FINGERPRINT},'
        f'"choices":[{{"index":0,"message":{{"role":"assistant","content":{go_json(gen.text)}}},'
        f'"finish_reason":{_finish(reason)}}}],"usage":{_usage(gen)}}}\n'
    )
    return Fixed(200, PLAIN_JSON, body.encode())


@lru_cache(maxsize=1024)
def completion_stream(model: str, gen: Generation, reason: str, include_usage: bool) -> Stream:
    """Text completion chunks; with ``include_usage`` every chunk carries a zero usage (as Ollama does)."""
    head = f'data: {{"id":"{completion_id("cmpl", model, gen)}","object":"text_completion","created":{_STREAM_CREATED},'
    tail = f',"model":{go_str_cached(model)},{_FINGERPRINT}'
    zero = ',"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}' if include_usage else ""
    lines = [
        f'{head}"choices":[{{"text":"{token}","index":0,"finish_reason":null}}]{tail}{zero}}}\n\n'.encode()
        for token in gen.tokens
    ]
    last = f'{head}"choices":[{{"text":"","index":0,"finish_reason":{_finish(reason)}}}]{tail}{zero}}}\n\n'
    if include_usage:
        last += f'{head}"choices":[]{tail},"usage":{_usage(gen)}}}\n\n'
    lines.append(last.encode() + DONE)
    return Stream(SSE, tuple(lines), paced=True)


def completion_body(model: str, gen: Generation, reason: str) -> Fixed:
    """A non-streamed ``text_completion`` object."""
    body = (
        f'{{"id":"{completion_id("cmpl", model, gen)}","object":"text_completion",'
        f'"created":{unix_seconds(gen.done_ns)},"model":{go_str_cached(model)},{_FINGERPRINT},'
        f'"choices":[{{"text":{go_json(gen.text)},"index":0,"finish_reason":{_finish(reason)}}}],'
        f'"usage":{_usage(gen)}}}\n'
    )
    return Fixed(200, PLAIN_JSON, body.encode())
