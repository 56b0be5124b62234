"""The checks and outcome of a generate, chat or embed call, shared by the native and ``/v1`` routes.

The order of checks follows Ollama's handlers (https://github.com/ollama/ollama/blob/main/server/routes.go):
model name, then existence, then the unload case (empty prompt or messages with ``keep_alive`` 0), then
capability, then the load case (empty prompt or messages). Failures raise
:class:`~ollama_sim.errors.ApiError`; each route renders it in its own error shape. The answer echoes the
model string exactly as the client sent it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config.model_names import InvalidModelNameError, parse_model_name
from ollama_sim.clock import step_ns
from ollama_sim.config import SimConfig
from ollama_sim.errors import ApiError
from ollama_sim.generation import Generation, generate, prompt_tokens, request_seed
from ollama_sim.godecode import json_kind
from ollama_sim.keepalive import keep_alive_ns
from ollama_sim.modelinfo import ModelFacts
from ollama_sim.store import SimState


@dataclass(frozen=True, slots=True)
class Answer:
    """What a generate or chat call produced.

    Attributes:
        model: the ``model`` string as the client sent it.
        facts: the installed model it resolved to.
        gen: the generated answer; ``None`` for the ``load``/``unload`` replies.
        reason: ``done_reason``: ``stop``, ``length``, ``load`` or ``unload``.
    """

    model: str
    facts: ModelFacts
    gen: Generation | None
    reason: str


def _unmarshal_error(value: Any, field: str, go_type: str) -> ApiError:
    return ApiError(400, f"json: cannot unmarshal {json_kind(value)} into Go struct field {field} of type {go_type}")


def _message_texts(messages: Any) -> tuple[str, ...]:
    """The texts that seed the answer; message shapes Go could not decode are refused like gin does."""
    if not isinstance(messages, list):
        raise _unmarshal_error(messages, "ChatRequest.messages", "[]api.Message")
    texts = []
    for message in messages:
        if not isinstance(message, dict):
            raise _unmarshal_error(message, "ChatRequest.messages", "api.Message")
        content = message.get("content")
        if content is not None and not isinstance(content, str):
            raise _unmarshal_error(content, "ChatRequest.messages.content", "string")
        texts.append(f"{message.get('role', '')}: {content or ''}")
    return tuple(texts)


def _check_top_logprobs(body: dict[str, Any]) -> None:
    top = body.get("top_logprobs")
    if isinstance(top, int) and not isinstance(top, bool) and not 0 <= top <= 20:
        raise ApiError(400, "top_logprobs must be between 0 and 20")


def _check_thinking(model: str, body: dict[str, Any]) -> None:
    """The simulated models have no thinking capability: ``think`` on (``true`` or a level) is refused."""
    think = body.get("think")
    if think is True or (isinstance(think, str) and think not in ("", "false", "none")):
        raise ApiError(400, f'"{model}" does not support thinking')


class Inference:
    """Generate, chat and embed semantics over one simulator's catalog."""

    def __init__(self, config: SimConfig, state: SimState) -> None:
        self.config = config
        self.state = state
        self._step_ns = step_ns(config.token_rate)

    def _budget(self, options: Any) -> tuple[int, str]:
        """Tokens to produce and the ``done_reason``: ``num_predict`` below the answer length cuts it short."""
        limit = options.get("num_predict") if isinstance(options, dict) else None
        if isinstance(limit, int) and not isinstance(limit, bool) and 0 <= limit < self.config.tokens:
            return limit, "length"
        return self.config.tokens, "stop"

    def _answer(self, model: str, facts: ModelFacts, parts: tuple[str, ...], body: dict[str, Any]) -> Answer:
        count, reason = self._budget(body.get("options"))
        seed = request_seed(facts.key, parts)
        gen = generate(seed, count, prompt_tokens(parts), self._step_ns)
        self.state.mark_loaded(facts, keep_alive_ns(body.get("keep_alive")))
        return Answer(model, facts, gen, reason)

    def _unload_or_none(self, model: str, facts: ModelFacts, body: dict[str, Any]) -> Answer | None:
        if "keep_alive" in body and keep_alive_ns(body["keep_alive"]) == 0:
            self.state.unload(facts)
            return Answer(model, facts, None, "unload")
        return None

    def generate(self, body: dict[str, Any]) -> Answer:
        """``/api/generate``: unknown or invalid names are 404 ``model 'X' not found`` (Ollama's choice)."""
        model = body.get("model") or ""
        facts = self.state.lookup(model)
        if facts is None:
            raise ApiError(404, f"model '{model}' not found")
        _check_top_logprobs(body)
        prompt = body.get("prompt") or ""
        if body.get("raw") and (body.get("template") or body.get("system") or body.get("context")):
            raise ApiError(400, "raw mode does not support template, system, or context")
        if not prompt and (unload := self._unload_or_none(model, facts, body)) is not None:
            return unload
        if facts.embedding_only:
            raise ApiError(400, f'"{model}" does not support generate')
        _check_thinking(model, body)
        if not prompt:
            self.state.mark_loaded(facts, keep_alive_ns(body.get("keep_alive")))
            return Answer(model, facts, None, "load")
        parts = (str(body.get("system") or ""), prompt) if body.get("system") else (prompt,)
        return self._answer(model, facts, parts, body)

    def chat(self, body: dict[str, Any]) -> Answer:
        """``/api/chat``: an empty model is 400 ``model is required``, an invalid one ``invalid model name``."""
        model = body.get("model") or ""
        if not model.strip():
            raise ApiError(400, "model is required")
        try:
            parse_model_name(model)
        except InvalidModelNameError:
            raise ApiError(400, "invalid model name") from None
        facts = self.state.lookup(model)
        if facts is None:
            raise ApiError(404, f"model '{model}' not found")
        _check_top_logprobs(body)
        texts = _message_texts(body.get("messages") or [])
        if not texts and (unload := self._unload_or_none(model, facts, body)) is not None:
            return unload
        if facts.embedding_only:
            raise ApiError(400, f'"{model}" does not support chat')
        _check_thinking(model, body)
        if not texts:
            self.state.mark_loaded(facts, keep_alive_ns(body.get("keep_alive")))
            return Answer(model, facts, None, "load")
        return self._answer(model, facts, texts, body)

    def embed_inputs(self, body: dict[str, Any]) -> tuple[ModelFacts, list[str]]:
        """``/api/embed``: the texts to embed (``invalid input type`` first, then the model's 404)."""
        raw = body.get("input")
        if isinstance(raw, str):
            inputs = [raw] if raw else []
        elif isinstance(raw, list) and all(isinstance(item, str) for item in raw):
            inputs = list(raw)
        elif raw is None:
            inputs = []
        else:
            raise ApiError(400, "invalid input type")
        model = body.get("model") or ""
        facts = self.state.lookup(model)
        if facts is None:
            raise ApiError(404, f"model '{model}' not found")
        self.state.mark_loaded(facts, keep_alive_ns(body.get("keep_alive")))
        return facts, inputs
