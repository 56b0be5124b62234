"""Model names compare the way Ollama compares them, so two spellings can never be two routes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.model_names import InvalidModelNameError, canonical_name, model_key, parse_model_name, same_model

_first = st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789_")
_rest = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-.", max_size=12)
part = st.builds(lambda a, b: a + b, _first, _rest)
ns_part = st.builds(lambda a, b: a + b.replace(".", ""), _first, _rest)


@st.composite
def names(draw: st.DrawFn) -> str:
    model = draw(part)
    tag = draw(st.one_of(st.none(), part))
    namespace = draw(st.one_of(st.none(), ns_part))
    text = model if tag is None else f"{model}:{tag}"
    return text if namespace is None else f"{namespace}/{text}"


def _vary_case(text: str, flips: list[bool]) -> str:
    return "".join(c.upper() if flip else c for c, flip in zip(text, flips + [False] * len(text), strict=False))


@given(names())
def test_canonical_form_is_idempotent(name: str) -> None:
    once = canonical_name(name)
    assert canonical_name(once) == once
    assert model_key(once) == model_key(name)


@given(names(), st.lists(st.booleans(), max_size=40))
def test_case_never_makes_a_different_model(name: str, flips: list[bool]) -> None:
    assert same_model(name, _vary_case(name, flips))
    assert canonical_name(_vary_case(name, flips)) == canonical_name(name)


@given(names())
def test_implied_tag_namespace_and_host_are_the_same_model(name: str) -> None:
    parsed = parse_model_name(name)
    full = f"registry.ollama.ai/{parsed.namespace}/{parsed.model}:{parsed.tag}"
    assert same_model(name, full)
    if ":" not in name:
        assert same_model(name, f"{name}:latest")


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("llama3.2", "llama3.2:latest"),
        ("LLAMA3.2:LATEST", "llama3.2"),
        ("llama3.2", "registry.ollama.ai/library/llama3.2:latest"),
        ("library/qwen2.5:7b", "qwen2.5:7b"),
        ("https://registry.ollama.ai/library/qwen2.5:7b", "qwen2.5:7b"),
    ],
)
def test_spellings_of_one_model(left: str, right: str) -> None:
    assert same_model(left, right)


@pytest.mark.parametrize(
    ("left", "right"),
    [("llama3.2:3b", "llama3.2:1b"), ("hf.co/u/m:q4", "u/m:q4"), ("user/llama3", "llama3")],
)
def test_different_models(left: str, right: str) -> None:
    assert not same_model(left, right)


def test_display_form_keeps_namespace_and_host_only_when_not_default() -> None:
    assert canonical_name("Llama3.2") == "llama3.2:latest"
    assert canonical_name("hf.co/bartowski/Llama-3.2-1B-GGUF:Q4_K_M") == "hf.co/bartowski/llama-3.2-1b-gguf:q4_k_m"
    assert canonical_name("myuser/mymodel") == "myuser/mymodel:latest"
    assert canonical_name("localhost:5000/team/model:v1") == "localhost:5000/team/model:v1"


@pytest.mark.parametrize("bad", ["", "   ", "bad name", "-lead", "model:", "a/b/c/d/e", "ns.dot/model", "m:t/x"])
def test_invalid_names_are_refused_with_the_reason(bad: str) -> None:
    with pytest.raises(InvalidModelNameError):
        parse_model_name(bad)
