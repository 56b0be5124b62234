"""The strict base models every configuration document is built from.

Unknown keys are errors (a misspelt key must never be silently ignored), models are immutable once
validated, and the stack config uses camelCase keys as Pulumi users write them while Python code uses
snake_case attributes.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class SnakeModel(BaseModel):
    """Strict, frozen, keys exactly as the Python field names (the model-map document)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CamelModel(BaseModel):
    """Strict, frozen, camelCase keys (the Pulumi stack config)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
    )
