"""Native ``/api/generate`` and ``/api/chat`` answers as bytes, built from string templates.

Field order and omissions follow Ollama's Go structs (``api.GenerateResponse``, ``api.ChatResponse``,
``api.Metrics`` with ``omitempty``). Stream lines are compact JSON plus ``\\n`` with no blank lines;
``stream:false`` merges them into one object sent with ``application/json; charset=utf-8``. Tokens come
from a JSON-safe vocabulary and the model string is escaped once, so no line is JSON-encoded one by one,
and the finished :class:`~ollama_sim.wire.Stream` is cached for identical requests.
"""

from __future__ import annotations

from functools import lru_cache

from ollama_sim.clock import SIM_EPOCH_NS, go_time
from ollama_sim.generation import Generation
from ollama_sim.gojson import go_json, go_str_cached
from ollama_sim.wire import JSON, NDJSON, Fixed, Stream


def _metrics(gen: Generation) -> str:
    return "".join(f',"{name}":{value}' for name, value in gen.metrics().items())


def _generate_done(model: str, gen: Generation, reason: str, response: str) -> str:
    context = f',"context":[{",".join(map(str, gen.context))}]' if gen.context else ""
    return (
        f'{{"model":{model},"created_at":"{go_time(gen.done_ns)}","response":{response},'
        f'"done":true,"done_reason":"{reason}"{context}{_metrics(gen)}}}'
    )


def _chat_done(model: str, gen: Generation, reason: str, content: str) -> str:
    return (
        f'{{"model":{model},"created_at":"{go_time(gen.done_ns)}",'
        f'"message":{{"role":"assistant","content":{content}}},'
        f'"done_reason":"{reason}","done":true{_metrics(gen)}}}'
    )


@lru_cache(maxsize=2048)
def generate_stream(model: str, gen: Generation, reason: str) -> Stream:
    """``/api/generate`` streaming: one ``{"response": token}`` line per token, then the done line."""
    quoted = go_str_cached(model)
    lines = [
        f'{{"model":{quoted},"created_at":"{go_time(gen.token_ns(index))}","response":"{token}",'
        f'"done":false}}\n'.encode()
        for index, token in enumerate(gen.tokens)
    ]
    lines.append((_generate_done(quoted, gen, reason, '""') + "\n").encode())
    return Stream(NDJSON, tuple(lines), paced=True)


@lru_cache(maxsize=2048)
def chat_stream(model: str, gen: Generation, reason: str) -> Stream:
    """``/api/chat`` streaming: one assistant ``message`` line per token, then the done line."""
    quoted = go_str_cached(model)
    lines = [
        f'{{"model":{quoted},"created_at":"{go_time(gen.token_ns(index))}",'
        f'"message":{{"role":"assistant","content":"{token}"}},"done":false}}\n'.encode()
        for index, token in enumerate(gen.tokens)
    ]
    lines.append((_chat_done(quoted, gen, reason, '""') + "\n").encode())
    return Stream(NDJSON, tuple(lines), paced=True)


def generate_merged(model: str, gen: Generation, reason: str) -> Fixed:
    """``/api/generate`` with ``stream:false``: the whole response in the final object."""
    body = _generate_done(go_str_cached(model), gen, reason, go_json(gen.text))
    return Fixed(200, JSON, body.encode())


def chat_merged(model: str, gen: Generation, reason: str) -> Fixed:
    """``/api/chat`` with ``stream:false``: the whole message in the final object."""
    body = _chat_done(go_str_cached(model), gen, reason, go_json(gen.text))
    return Fixed(200, JSON, body.encode())


def generate_status(model: str, reason: str) -> Fixed:
    """The ``load``/``unload`` answer of an empty prompt: one object, whatever ``stream`` says."""
    body = (
        f'{{"model":{go_str_cached(model)},"created_at":"{go_time(SIM_EPOCH_NS)}","response":"",'
        f'"done":true,"done_reason":"{reason}"}}'
    )
    return Fixed(200, JSON, body.encode())


def chat_status(model: str, reason: str) -> Fixed:
    """The ``load``/``unload`` answer of empty ``messages``."""
    body = (
        f'{{"model":{go_str_cached(model)},"created_at":"{go_time(SIM_EPOCH_NS)}",'
        f'"message":{{"role":"assistant","content":""}},"done_reason":"{reason}","done":true}}'
    )
    return Fixed(200, JSON, body.encode())
