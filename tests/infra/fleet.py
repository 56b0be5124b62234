"""Shared helpers for the infra tests: run a stack under the mocks and look at what it registered."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from config.loading import from_pulumi_config
from config.stack import StackConfig
from infra.offline.mocks import Registered, Run, run_program, stack_file_config
from infra.offline.render import plain
from infra.program import build

ROOT = Path(__file__).resolve().parents[2]
POOL_LABEL_KEY = "ollama-fleet/pool"


def engine_config(stack: str, **overrides: Any) -> tuple[dict[str, str], list[str]]:
    """The committed stack's config as the engine passes it, with top-level keys replaced by ``overrides``.

    Override keys are the bare stack keys (``router``); values are JSON-able and are edited copies of
    the file's values by the caller.
    """
    config, secret_keys = stack_file_config(ROOT / f"Pulumi.{stack}.yaml")
    for key, value in overrides.items():
        config[f"ollama-fleet:{key}"] = value if isinstance(value, str) else json.dumps(value)
    return config, secret_keys


def file_value(stack: str, key: str) -> Any:
    """A bare key's value decoded from the committed stack file (a fresh copy)."""
    config, _ = stack_file_config(ROOT / f"Pulumi.{stack}.yaml")
    raw = config[f"ollama-fleet:{key}"]
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def run_stack(stack: str, secret_keys: tuple[str, ...] = (), **overrides: Any) -> tuple[StackConfig, Run]:
    """Validate and run ``Pulumi.<stack>.yaml`` (with overrides) through the real program."""
    config, secrets = engine_config(stack, **overrides)
    spec = from_pulumi_config(config)
    return spec, run_program(build, config, stack=stack, secret_keys=[*secrets, *secret_keys])


def inputs(resource: Registered) -> dict[str, Any]:
    """A resource's inputs as plain data (ints as ints, secrets redacted)."""
    result: dict[str, Any] = plain(resource.inputs)
    return result


def one(run: Run, token: str, **where: str) -> dict[str, Any]:
    """The plain inputs of the only resource of ``token`` whose metadata/name match ``where``."""
    found = [inputs(r) for r in run.of_type(token) if _matches(r, where)]
    assert len(found) == 1, f"expected one {token} matching {where}, found {len(found)}"
    return found[0]


def _matches(resource: Registered, where: Mapping[str, str]) -> bool:
    data = inputs(resource)
    metadata = data.get("metadata", {})
    for key, value in where.items():
        actual = resource.name if key == "logical" else metadata.get(key, data.get(key))
        if actual != value:
            return False
    return True


def pod_spec(workload: Mapping[str, Any]) -> dict[str, Any]:
    """The pod spec of a workload's template."""
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def containers(spec: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Init and regular containers of a pod spec, by name."""
    return {c["name"]: c for c in [*spec.get("initContainers", []), *spec.get("containers", [])]}


def env_of(container: Mapping[str, Any]) -> dict[str, Any]:
    """A container's env as name → value (or valueFrom)."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}
