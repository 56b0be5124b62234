"""The JSON Schema of ``Pulumi.<stack>.yaml``, so editors complete and check the stack YAML.

The committed copy lives in ``schema/pulumi-stack.schema.json``; a test fails when it is stale.
"""

from __future__ import annotations

import json
from typing import Any

from config.loading import GCP_KEYS, PROJECT
from config.stack import StackConfig


def stack_file_schema() -> dict[str, Any]:
    """Schema of the whole stack file: a ``config:`` map with ``ollama-fleet:*`` and ``gcp:*`` keys."""
    inner = StackConfig.model_json_schema(by_alias=True)
    defs = inner.pop("$defs", {})
    properties: dict[str, Any] = {}
    for key, prop in inner["properties"].items():
        properties[key if key in GCP_KEYS else f"{PROJECT}:{key}"] = prop
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "ollama-fleet Pulumi stack",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "properties": properties,
                "required": [f"{PROJECT}:pools"],
                "patternProperties": {"^(?!ollama-fleet:)[^:]+:.+$": {}},
                "additionalProperties": False,
            },
            "encryptionsalt": {"type": "string"},
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
        },
        "required": ["config"],
        "$defs": defs,
    }


def render_schema() -> str:
    """The schema file's exact text."""
    return json.dumps(stack_file_schema(), indent=2, sort_keys=True) + "\n"
