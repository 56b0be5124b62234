"""One error type for every configuration problem, each naming its path, the bad value and the fix.

Users read these in `make check-config`, `make plan`, `pulumi preview` and the router's log, so a message
must be actionable without reading the code: ``pools[1].machineType: 'a2-highgpu-1g' cannot carry
nvidia-tesla-t4. Fix: use an N1 machine type such as n1-standard-8.``
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

_UNION_TAGS = frozenset({"gke", "existing", "function-after", "function-before", "function-wrap"})


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a configuration document."""

    path: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.path}: {_sentence(self.message)}" if self.path else _sentence(self.message)
        return f"{text} Fix: {self.fix}" if self.fix else text


def _sentence(message: str) -> str:
    """The message as a sentence: it ends with a full stop, so a following "Fix:" reads as the next one."""
    return message if message.endswith((".", "!", "?")) else f"{message}."


class ConfigError(Exception):
    """A configuration document is invalid; ``problems`` lists every problem found, in file order.

    Deliberately not a ``ValueError``: raised from a model validator it passes through pydantic untouched,
    so cross-field problems keep their own paths instead of being folded into one message.
    """

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{source}: {count} {noun}:\n{lines}")


def format_path(loc: Iterable[int | str], root: str = "") -> str:
    """Render a pydantic location as the path a user sees in YAML: ``pools[1].ollama.models[0]``."""
    text = root
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in _UNION_TAGS or part.startswith("function-"):
            continue
        else:
            text += f".{part}" if text else part
    return text


def _describe(value: Any) -> str:
    rendered = repr(value)
    return rendered if len(rendered) <= 80 else rendered[:77] + "..."


def problems_from_validation(error: ValidationError, root: str = "") -> list[Problem]:
    """Turn pydantic's errors into problems that name the path and the offending value."""
    problems: list[Problem] = []
    for item in error.errors(include_url=False):
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (check its spelling against the schema)"
        elif item["type"] == "missing":
            message = "is required"
        elif "input" in item and item["type"] not in {"model_type", "dict_type", "list_type"}:
            message = f"{message} (got {_describe(item['input'])})"
        problems.append(Problem(format_path(item["loc"], root), message))
    return problems
