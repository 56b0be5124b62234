"""``docs/configuration.md``: every stack key with its type, default and meaning, read from the models.

The page is generated, never edited by hand (``make docs``), and a test fails when the committed copy is
stale, so the reference cannot drift from what the validator accepts.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from config.external import SecretText
from config.loading import GCP_KEYS, PROJECT
from config.stack import ExistingClusterSpec, GkeClusterSpec, SecretKeys, StackConfig

_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}
_BOUNDS = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}


@dataclass(frozen=True)
class Row:
    """One key of the reference table."""

    key: str
    type: str
    default: str
    description: str


def _members(annotation: Any) -> list[Any]:
    """The non-None members of a union (or the annotation itself), with ``Annotated`` peeled off."""
    if get_origin(annotation) is Annotated:
        return _members(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return [m for arg in get_args(annotation) for m in _members(arg) if m is not type(None)]
    return [annotation]


def _model(annotation: Any) -> type[BaseModel] | None:
    members = _members(annotation)
    only = members[0] if len(members) == 1 else None
    return only if isinstance(only, type) and issubclass(only, BaseModel) else None


def type_name(annotation: Any) -> str:
    """How a field's type reads in the reference: ``list of string``, ``"COS_CONTAINERD" | ...``."""
    names = []
    for member in _members(annotation):
        origin = get_origin(member)
        if member is SecretKeys:
            names.append("secret: comma-separated keys")
        elif member is SecretText:
            names.append("secret: one string")
        elif origin is Literal:
            names.append(" \\| ".join(f"`{value}`" for value in get_args(member)))
        elif origin is list:
            names.append(f"list of {type_name(get_args(member)[0])}")
        elif origin is dict:
            names.append(f"map of {type_name(get_args(member)[1])}")
        elif isinstance(member, type) and issubclass(member, BaseModel):
            names.append("mapping")
        else:
            names.append(_SCALARS.get(member, getattr(member, "__name__", str(member))))
    return " or ".join(dict.fromkeys(names))


def _bounds(field: FieldInfo) -> str:
    parts = []
    for item in field.metadata:  # pydantic's constraint objects: Ge(ge=1), MaxLen(max_length=30), ...
        parts += [f"{sign} {getattr(item, name):g}" for name, sign in _BOUNDS.items() if hasattr(item, name)]
        if getattr(item, "min_length", 0):
            parts.append(f"at least {item.min_length} long")
        if getattr(item, "max_length", None) is not None:
            parts.append(f"at most {item.max_length} long")
    return f" ({', '.join(parts)})" if parts else ""


def default_value(field: FieldInfo) -> Any:
    """The field's default value (``PydanticUndefined`` when the key is required)."""
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]
    return field.default


def default_text(value: Any) -> str:
    """A default as a user would write it in YAML, or *required* / *unset*."""
    if value is PydanticUndefined:
        return "*required*"
    if value is None:
        return "*unset*"
    if isinstance(value, BaseModel):
        if value == type(value)():
            return "its keys' defaults"
        value = value.model_dump(mode="json", by_alias=True)
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def rows(model: type[BaseModel], prefix: str = "", defaults: BaseModel | None = None) -> Iterator[Row]:
    """Every key of ``model``, depth first, nested models' keys after their parent's row.

    ``defaults`` is the parent's default for this mapping when it differs from the model's own
    (the system pool's ``nodes``): its values are the keys' defaults there.
    """
    for name, field in model.model_fields.items():
        key = f"{prefix}.{field.alias or name}" if prefix else field.alias or name
        default = default_value(field) if defaults is None else getattr(defaults, name)
        description = " ".join((field.description or "").split())
        yield Row(key, type_name(field.annotation) + _bounds(field), default_text(default), description)
        nested = _model(field.annotation)
        if nested is not None and nested not in (SecretKeys, SecretText):
            own = isinstance(default, BaseModel) and default != nested()
            yield from rows(nested, key, default if own else None)
        for member in _members(field.annotation):
            if get_origin(member) is list and _model(get_args(member)[0]):
                yield from rows(_model(get_args(member)[0]), f"{key}[]")  # type: ignore[arg-type]


def _table(items: Iterator[Row]) -> list[str]:
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    for row in items:
        description = row.description.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
        lines.append(f"| `{row.key}` | {row.type} | {row.default} | {description} |")
    return lines


def _stack_rows() -> Iterator[Row]:
    for row in rows(StackConfig):
        if row.key.split(".")[0].split("[")[0] == "cluster" and row.key != "cluster":
            continue  # the cluster's keys depend on its type: they get a table of their own each
        yield row if row.key.split(".")[0].split("[")[0] in GCP_KEYS else _prefixed(row)


def _prefixed(row: Row) -> Row:
    return Row(f"{PROJECT}:{row.key}", row.type, row.default, row.description)


def configuration_markdown() -> str:
    """The whole page."""
    lines = [
        "# Stack configuration reference",
        "",
        "<!-- Generated from the models in config/ by `make docs`; edit the models, not this page. -->",
        "",
        "Every key of `Pulumi.<stack>.yaml` that ollama-fleet reads, in camelCase as it is written under",
        "`config:`. `[]` marks a list's items; a mapping's keys follow it. Unknown keys are refused.",
        "",
        "## Keys",
        "",
        *_table(_stack_rows()),
        "",
    ]
    for title, model in (("`cluster.type: gke`", GkeClusterSpec), ("`cluster.type: existing`", ExistingClusterSpec)):
        lines += [f"## {PROJECT}:cluster with {title}", "", *_table(_prefixed(r) for r in rows(model, "cluster")), ""]
    return "\n".join(lines)
