"""Turn a stack's config values into a validated :class:`~config.stack.StackConfig`, or every problem.

Two doors lead here: a ``Pulumi.<stack>.yaml`` file (``make check-config``, ``make plan``) and the
values the Pulumi engine hands the program (``pulumi preview``/``up``). Both end in
:func:`validate_stack`, so a stack is refused with the same messages wherever it is checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from config.errors import ConfigError, Problem, problems_from_validation
from config.rules import pool_problems
from config.stack import PoolSpec, StackConfig

PROJECT = "ollama-fleet"
STACK_KEYS = ("cluster", "pools", "routes", "aliases", "defaultPool", "router")
GCP_KEYS = ("gcp:project", "gcp:region")
SECRET_PATHS = (("router", "apiKeys"), ("router", "adminKeys"))


def validate_stack(data: Mapping[str, Any], source: str = "stack config") -> StackConfig:
    """Validate decoded stack values (keys without the project prefix, plus ``gcp:*``)."""
    try:
        return StackConfig.model_validate(data)
    except ConfigError as error:
        raise ConfigError(source, error.problems) from None
    except ValidationError as error:
        problems = problems_from_validation(error)
        problems += [p for p in _partial_problems(data) if p not in problems]
        raise ConfigError(source, problems) from None


def _partial_problems(data: Mapping[str, Any]) -> Iterator[Problem]:
    """Pool rules for pools whose broken keys are set aside, so one typo does not hide other problems.

    A problem that mentions a set-aside key is dropped: it would be about a default, not the user's value.
    """
    cluster = data.get("cluster")
    gke = not (isinstance(cluster, dict) and cluster.get("type") == "existing")
    pools = data.get("pools")
    if not isinstance(pools, list):
        return
    for index, raw in enumerate(pools):
        if not isinstance(raw, dict):
            continue
        pool, broken = _salvage_pool(raw)
        if pool is None:
            continue
        for problem in pool_problems(pool, index, gke=gke):
            if not any(key in f"{problem.path} {problem.message} {problem.fix}" for key in broken):
                yield problem


def _salvage_pool(raw: dict[str, Any]) -> tuple[PoolSpec | None, set[str]]:
    broken: set[str] = set()
    candidate = dict(raw)
    for _ in range(len(raw) + 1):
        try:
            return PoolSpec.model_validate(candidate), broken
        except ConfigError:
            return None, broken
        except ValidationError as error:
            keys = {str(item["loc"][0]) for item in error.errors() if item["loc"]}
            if not keys or keys <= broken or "name" in keys:
                return None, broken
            broken |= keys
            candidate = {k: v for k, v in raw.items() if k not in broken}
    return None, broken


def stack_values(config: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Pick ollama-fleet's keys out of a stack's whole ``config:`` map; unknown ``ollama-fleet:`` keys fail."""
    values, problems = split_config(config)
    if problems:
        raise ConfigError(source, problems)
    return values


def split_config(config: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """ollama-fleet's and GCP's values, and a problem for every unknown ``ollama-fleet:`` key."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in config.items():
        namespace, _, name = key.partition(":")
        if key in GCP_KEYS:
            values[key] = value
        elif namespace == PROJECT:
            if name in STACK_KEYS:
                values[name] = value
            else:
                problems.append(Problem(key, "unknown key", f"use one of: {', '.join(STACK_KEYS)}"))
    return values, problems


def from_pulumi_config(config: Mapping[str, str], source: str = "pulumi config") -> StackConfig:
    """Validate the engine's config, where structured values arrive as JSON strings."""
    values, problems = split_config({key: _decode(value) for key, value in config.items()})
    return _validate_all(values, problems, source)


def _validate_all(values: Mapping[str, Any], problems: list[Problem], source: str) -> StackConfig:
    """Validate, reporting ``problems`` found before validation together with the schema's own."""
    try:
        stack = validate_stack(values, source)
    except ConfigError as error:
        raise ConfigError(source, [*problems, *error.problems]) from None
    if problems:
        raise ConfigError(source, problems)
    return stack


def _decode(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def read_stack_file(path: str | Path) -> dict[str, Any]:
    """The ``config:`` map of a stack file, or a :class:`ConfigError` that says why it cannot be read."""
    file = Path(path)
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            str(file), [Problem("", "no such stack file", "create it or pick an existing stack")]
        ) from None
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(str(file), [Problem("", f"cannot read it: {error}")]) from None
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise ConfigError(str(file), [Problem("config", "a stack file needs a top-level 'config:' mapping")])
    return dict(document["config"])


def load_stack_file(path: str | Path) -> StackConfig:
    """Read and validate ``Pulumi.<stack>.yaml``; secrets must be encrypted in the file."""
    source = str(path)
    values, problems = split_config(read_stack_file(path))
    problems += _clear_text_secrets(values)
    return _validate_all(values, problems, source)


def _clear_text_secrets(values: Mapping[str, Any]) -> Iterator[Problem]:
    yield from _clear_text_tokens(values.get("pools"))
    for section, key in SECRET_PATHS:
        block = values.get(section)
        value = block.get(key) if isinstance(block, dict) else None
        if value is not None and not (isinstance(value, dict) and set(value) == {"secure"}):
            yield Problem(
                f"{section}.{key}",
                "is in clear text in the stack file",
                f"pulumi config set --secret --path {section}.{key} '<key1>,<key2>'",
            )


def _clear_text_tokens(pools: Any) -> Iterator[Problem]:
    """External pools' tokens, which must be encrypted in the stack file like the router's keys."""
    for index, pool in enumerate(pools if isinstance(pools, list) else []):
        external = pool.get("external") if isinstance(pool, dict) else None
        token = external.get("token") if isinstance(external, dict) else None
        if token is not None and not (isinstance(token, dict) and set(token) == {"secure"}):
            path = f"pools[{index}].external.token"
            yield Problem(
                path, "is in clear text in the stack file", f"pulumi config set --secret --path '{path}' '<token>'"
            )
