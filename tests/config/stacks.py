"""Helpers that build stack documents for the tests: the committed dev stack, edited in one place."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from config.errors import ConfigError, Problem
from config.loading import read_stack_file, stack_values, validate_stack
from config.stack import StackConfig

ROOT = Path(__file__).resolve().parents[2]


def stack_data(name: str = "dev") -> dict[str, Any]:
    """The committed ``Pulumi.<name>.yaml`` as validate_stack's input (a fresh copy each call)."""
    path = ROOT / f"Pulumi.{name}.yaml"
    return copy.deepcopy(stack_values(read_stack_file(path), str(path)))


def refused(data: dict[str, Any]) -> list[Problem]:
    """The problems a stack is refused with; fails the test if it is accepted."""
    with pytest.raises(ConfigError) as caught:
        validate_stack(data)
    return list(caught.value.problems)


def accepted(data: dict[str, Any]) -> StackConfig:
    """Validate a stack the test expects to be fine, showing every problem if it is not."""
    try:
        return validate_stack(data)
    except ConfigError as error:  # pragma: no cover - the message is the point when it fails
        pytest.fail(str(error))


def at(problems: list[Problem], path: str) -> list[Problem]:
    """The problems reported at ``path``."""
    return [problem for problem in problems if problem.path == path]
