"""The model-map document: which backends exist and which of them serve each model.

Infra derives it from the stack and writes it into a ConfigMap; the router reads the same document
(``python -m router --model-map FILE``). One schema on both sides, so the routing table cannot drift
from what was deployed. Model names are stored in canonical form and compared with Ollama's rules.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Self

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from config.base import SnakeModel
from config.errors import ConfigError, Problem, problems_from_validation
from config.model_names import InvalidModelNameError, canonical_name, model_key
from config.scaling import BackendScale

BackendName = Annotated[
    str,
    Field(pattern=r"^[a-z]([-a-z0-9]*[a-z0-9])?$", max_length=63, description="A DNS-label backend name."),
]


def _canonical(value: str) -> str:
    try:
        return canonical_name(value)
    except InvalidModelNameError as error:
        raise ValueError(str(error)) from None


class Backend(SnakeModel):
    """One Ollama endpoint: a pool's Service, or a single server."""

    name: BackendName
    url: Annotated[str, Field(pattern=r"^https?://[^/\s]+/?$", description="Base URL, no path.")]
    max_in_flight: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="Requests this backend may hold at once; absent means no cap."
    )
    num_parallel: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description="OLLAMA_NUM_PARALLEL of the backend's servers: requests one loaded model answers at once; "
        "absent means unknown (the router assumes Ollama's default, 1).",
    )
    resolve: bool = Field(
        default=False,
        description="Treat every address the URL's host resolves to as one replica (a headless Service).",
    )
    external: bool = Field(
        default=False,
        description="A server outside the cluster: the router checks its /api/tags against the models routed to it.",
    )
    ca_file: str | None = Field(default=None, description="PEM bundle of the CA that signed an https:// backend.")
    token_file: str | None = Field(
        default=None, description="File holding the bearer token sent upstream (read again when it changes)."
    )
    scale: BackendScale | None = Field(
        default=None, description="The pool scales to zero: the router sleeps and wakes this StatefulSet."
    )

    @field_validator("url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")


class RouteTarget(SnakeModel):
    """A backend serving a route: lower priority is tried first, weight shares traffic within a rank."""

    name: BackendName = Field(description="The backend serving the model; in a stack config, a pool's name.")
    priority: Annotated[int, Field(ge=0, description="Lower is tried first; higher ranks are fallbacks.")] = 0
    weight: Annotated[float, Field(gt=0, description="Share of traffic among backends of one priority.")] = 1.0


class Route(SnakeModel):
    """Where one model is served. A list of names means list order is priority."""

    model: str = Field(description="The model, as clients name it (compared as Ollama compares names).")
    backends: Annotated[list[RouteTarget], Field(min_length=1)] = Field(
        description="Backends serving it: names in priority order, or {name, priority, weight} entries."
    )

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        return _canonical(value)

    @field_validator("backends", mode="before")
    @classmethod
    def _names_to_targets(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [{"name": item, "priority": i} if isinstance(item, str) else item for i, item in enumerate(value)]

    @model_validator(mode="after")
    def _unique_backends(self) -> Self:
        names = [target.name for target in self.backends]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"backend {duplicates[0]!r} is listed twice for {self.model!r}")
        return self


class ModelMap(SnakeModel):
    """The whole routing document."""

    backends: Annotated[list[Backend], Field(min_length=1)]
    routes: list[Route] = Field(default_factory=list)
    aliases: dict[str, str] = Field(default_factory=dict)
    default_backend: BackendName | None = None

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, value: dict[str, str]) -> dict[str, str]:
        return {_canonical(alias): _canonical(target) for alias, target in value.items()}

    @model_validator(mode="after")
    def _references(self) -> Self:
        problems = _reference_problems(self)
        if problems:
            raise ConfigError("model map", problems)
        return self

    @property
    def version(self) -> str:
        """A short content hash, shown in ``/fleet/status`` so operators see which map is live."""
        body = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()[:12]

    def routes_by_key(self) -> dict[str, Route]:
        """Routes indexed by :func:`config.model_names.model_key`, the router's lookup table."""
        return {model_key(route.model): route for route in self.routes}

    def to_json(self) -> str:
        """The document as written into the ConfigMap: stable key order, snake_case."""
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=False) + "\n"


def _reference_problems(doc: ModelMap) -> list[Problem]:
    problems: list[Problem] = []
    names = [backend.name for backend in doc.backends]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(Problem("backends", f"backend name {name!r} is used twice", "give each a unique name"))
    known = set(names)
    seen: dict[str, int] = {}
    for i, route in enumerate(doc.routes):
        key = model_key(route.model)
        if key in seen:
            problems.append(Problem(f"routes[{i}].model", f"{route.model!r} is already routed by routes[{seen[key]}]"))
        seen.setdefault(key, i)
        for j, target in enumerate(route.backends):
            if target.name not in known:
                problems.append(
                    Problem(f"routes[{i}].backends[{j}]", f"unknown backend {target.name!r}", _known(known))
                )
    if doc.default_backend is not None and doc.default_backend not in known:
        problems.append(Problem("default_backend", f"unknown backend {doc.default_backend!r}", _known(known)))
    for alias, aliased in doc.aliases.items():
        if model_key(alias) in seen:
            problems.append(Problem(f"aliases.{alias}", "an alias cannot share a routed model's name"))
        if model_key(aliased) not in seen and doc.default_backend is None:
            problems.append(Problem(f"aliases.{alias}", f"points at {aliased!r}, which no route serves"))
    return problems


def _known(known: set[str]) -> str:
    return f"use one of: {', '.join(sorted(known))}"


def parse_model_map(data: Mapping[str, Any], source: str = "model map") -> ModelMap:
    """Validate a decoded document; raise :class:`ConfigError` listing every problem."""
    try:
        return ModelMap.model_validate(data)
    except ValidationError as error:
        raise ConfigError(source, problems_from_validation(error)) from None
    except ConfigError as error:
        raise ConfigError(source, error.problems) from None


def load_model_map(path: str | Path) -> ModelMap:
    """Read a model map from JSON or YAML (YAML is a superset, so one parser reads both)."""
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(str(file), [Problem("", f"cannot read the model map: {error}")]) from None
    if not isinstance(data, dict):
        raise ConfigError(str(file), [Problem("", "the model map must be a mapping with a 'backends' key")])
    return parse_model_map(data, str(file))
