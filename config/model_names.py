"""Ollama's model-name rules, so that two spellings of one model are always one route.

Ollama names are ``[host/][namespace/]model[:tag]`` with defaults ``registry.ollama.ai``, ``library`` and
``latest``; every part matches case-insensitively (``types/model/name.go`` upstream). We reproduce the
parser and the validity rules, and expose two forms: :func:`model_key`, the full lowercase identity used for
comparisons, and :func:`canonical_name`, the shortest display form (with an explicit tag) stored in the
model map and shown to people.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"

_MAX_HOST = 350
_MAX_PART = 80


class InvalidModelNameError(ValueError):
    """A string that Ollama would refuse as a model name (its 400 ``invalid model name``)."""


@dataclass(frozen=True, slots=True)
class ModelName:
    """A parsed model name with Ollama's defaults filled in; parts keep the caller's case."""

    host: str
    namespace: str
    model: str
    tag: str

    @property
    def key(self) -> str:
        """The full, lowercase identity: equal keys mean Ollama treats the names as one model."""
        return f"{self.host}/{self.namespace}/{self.model}:{self.tag}".lower()

    @property
    def display(self) -> str:
        """Ollama's ``DisplayShortest`` form, always with a tag: ``llama3.2:latest``."""
        short = f"{self.model}:{self.tag}"
        if self.host.lower() != DEFAULT_HOST:
            return f"{self.host}/{self.namespace}/{short}"
        if self.namespace.lower() != DEFAULT_NAMESPACE:
            return f"{self.namespace}/{short}"
        return short


def _cut_last(text: str, sep: str) -> tuple[str, str, bool]:
    index = text.rfind(sep)
    if index < 0:
        return text, "", False
    return text[:index], text[index + len(sep) :], True


def _valid_part(part: str, kind: str) -> bool:
    limit = _MAX_HOST if kind == "host" else _MAX_PART
    if not 1 <= len(part) <= limit:
        return False
    if not (part[0].isascii() and (part[0].isalnum() or part[0] == "_")):
        return False
    for char in part[1:]:
        if char in "_-":
            continue
        if char == ".":
            if kind == "namespace":
                return False
            continue
        if char == ":":
            if kind != "host":
                return False
            continue
        if not (char.isascii() and char.isalnum()):
            return False
    return True


def _split(text: str) -> tuple[str | None, str | None, str, str | None]:
    """Split like Ollama's ``ParseNameBare``: the tag only if the last ':' follows the last '/'."""
    tag: str | None = None
    if text.rfind(":") > text.rfind("/"):
        text, tag, _ = _cut_last(text, ":")
    rest, model, has_namespace = _cut_last(text, "/")
    if not has_namespace:
        return None, None, text, tag
    rest, namespace, has_host = _cut_last(rest, "/")
    if not has_host:
        return None, rest, model, tag
    scheme_host = rest.split("://", 1)
    return scheme_host[-1], namespace, model, tag


@lru_cache(maxsize=4096)
def parse_model_name(text: str) -> ModelName:
    """Parse ``text`` as Ollama does, or raise :class:`InvalidModelNameError` naming the bad part."""
    stripped = text.strip()
    if not stripped:
        raise InvalidModelNameError("model name is empty")
    host, namespace, model, tag = _split(stripped)
    name = ModelName(
        host=DEFAULT_HOST if host is None else host,
        namespace=DEFAULT_NAMESPACE if namespace is None else namespace,
        model=model,
        tag=DEFAULT_TAG if tag is None else tag,
    )
    for kind in ("host", "namespace", "model", "tag"):
        if not _valid_part(getattr(name, kind), kind):
            raise InvalidModelNameError(
                f"{text!r} is not a valid Ollama model name: bad {kind} {getattr(name, kind)!r} "
                "(parts start with a letter, digit or '_' and use letters, digits, '_', '-', '.')"
            )
    return name


def model_key(text: str) -> str:
    """The comparison key of ``text``; raises :class:`InvalidModelNameError` for invalid names."""
    return parse_model_name(text).key


def canonical_name(text: str) -> str:
    """The stored form: shortest display form, lowercase, tag explicit (``Llama3.2`` → ``llama3.2:latest``)."""
    return parse_model_name(text).display.lower()


def same_model(left: str, right: str) -> bool:
    """Whether Ollama would treat the two names as one model (invalid names are never the same)."""
    try:
        return model_key(left) == model_key(right)
    except InvalidModelNameError:
        return False
