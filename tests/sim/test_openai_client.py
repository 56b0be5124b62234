"""The ``/v1`` routes through the official ``openai`` client."""

from __future__ import annotations

import ollama
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from ollama_sim import RunningSim
from tests.sim.conftest import MODELS, TOKENS

HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hello"}]


def test_chat_completion_says_what_native_chat_says(oai: openai.OpenAI, client: ollama.Client) -> None:
    completion = oai.chat.completions.create(model="llama3.2:3b", messages=HELLO)
    native = client.chat(model="llama3.2:3b", messages=HELLO)
    assert completion.choices[0].message.content == native.message.content
    assert completion.choices[0].finish_reason == "stop"
    assert completion.id.startswith("chatcmpl-") and completion.system_fingerprint == "fp_ollama"
    assert completion.usage is not None and completion.usage.completion_tokens == TOKENS


def test_chat_stream_ends_with_finish_reason_and_usage(oai: openai.OpenAI) -> None:
    stream = oai.chat.completions.create(
        model="llama3.2:3b",
        messages=HELLO,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert len(chunks) == TOKENS + 2  # tokens, the finishing chunk, the usage chunk
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == oai.chat.completions.create(model="llama3.2:3b", messages=HELLO).choices[0].message.content
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == chunks[-1].usage.prompt_tokens + TOKENS


def test_completions_stream_and_not(oai: openai.OpenAI) -> None:
    whole = oai.completions.create(model="qwen2.5:7b", prompt="Once upon a time")
    pieces = list(oai.completions.create(model="qwen2.5:7b", prompt="Once upon a time", stream=True))
    assert whole.choices[0].text == "".join(piece.choices[0].text for piece in pieces)
    assert whole.id.startswith("cmpl-") and pieces[-1].choices[0].finish_reason == "stop"


def test_embeddings_in_base64_and_float(oai: openai.OpenAI, client: ollama.Client) -> None:
    native = client.embed(model="nomic-embed-text", input=["a", "b"]).embeddings
    encoded = oai.embeddings.create(model="nomic-embed-text", input=["a", "b"])  # the client asks for base64
    floats = oai.embeddings.create(model="nomic-embed-text", input=["a", "b"], encoding_format="float")
    assert [item.embedding for item in floats.data] == [list(vector) for vector in native]
    for decoded, vector in zip(encoded.data, native, strict=True):  # float32 on the wire
        assert decoded.embedding == pytest.approx(list(vector), abs=1e-6)
    assert encoded.usage.prompt_tokens == encoded.usage.total_tokens > 0


def test_models_list_and_retrieve_including_ids_with_slashes(oai: openai.OpenAI, client: ollama.Client) -> None:
    assert [model.id for model in oai.models.list()] == list(MODELS)
    retrieved = oai.models.retrieve("llama3.2:3b")
    assert (retrieved.id, retrieved.owned_by, retrieved.object) == ("llama3.2:3b", "library", "model")
    client.pull("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M")
    nested = oai.models.retrieve("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M")  # sent as %2F
    assert (nested.id, nested.owned_by) == ("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", "bartowski")


def test_errors_come_in_openais_shape(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        oai.chat.completions.create(model="ghost", messages=HELLO)
    assert missing.value.body == {
        "message": "model 'ghost' not found",
        "type": "not_found_error",
        "param": None,
        "code": None,
    }
    with pytest.raises(openai.NotFoundError):
        oai.models.retrieve("ghost")
    with pytest.raises(openai.BadRequestError) as empty:
        oai.chat.completions.create(model="llama3.2:3b", messages=[])
    assert "[] is too short - 'messages'" in str(empty.value)
    with pytest.raises(openai.BadRequestError) as encoding:
        oai.embeddings.create(model="nomic-embed-text", input="x", encoding_format="int8")  # type: ignore[arg-type]
    assert "Invalid value for 'encoding_format' = int8" in str(encoding.value)


def test_responses_api_stream_and_object(oai: openai.OpenAI, sim: RunningSim) -> None:
    response = oai.responses.create(model="llama3.2:3b", input="Say hello", instructions="Be brief")
    assert response.status == "completed" and response.output_text
    assert response.instructions == "Be brief" and response.usage is not None
    events = list(oai.responses.create(model="llama3.2:3b", input="Say hello", instructions="Be brief", stream=True))
    kinds = [event.type for event in events]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds.count("response.output_text.delta") == TOKENS and kinds[-1] == "response.completed"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert events[-1].response.output_text == response.output_text  # type: ignore[union-attr]
