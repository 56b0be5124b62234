"""The stack's config as the Pulumi engine hands it over, validated once into a ``StackConfig``.

The engine passes config through the language host (``PULUMI_CONFIG``) and the runtime's config map;
unit tests and ``make plan`` fill the same map through the mocks. Every key of both is read, so a key
the schema does not know is reported instead of ignored.
"""

from __future__ import annotations

import pulumi
from pulumi.runtime.config import CONFIG

from config.errors import ConfigError
from config.loading import PROJECT, from_pulumi_config
from config.stack import StackConfig

OWN_NAMESPACES = (f"{PROJECT}:", "gcp:")


def engine_config() -> dict[str, str]:
    """Every ``ollama-fleet:*`` and ``gcp:*`` key the engine knows, as the raw strings it stores.

    ``pulumi.Config`` reads one named key at a time and no public call lists them all, which reporting the
    keys the schema does not know needs. The language host hands a program its config in ``PULUMI_CONFIG``
    (``get_config_env``); ``set_all_config`` (the mocks, the Automation API's inline programs) fills the
    SDK's ``CONFIG`` map instead, which only that module-level variable exposes.
    """
    keys = set(CONFIG.get()) | set(pulumi.runtime.get_config_env())
    values: dict[str, str] = {}
    for key in sorted(keys):
        if not key.startswith(OWN_NAMESPACES):
            continue
        value = pulumi.runtime.get_config(key)
        if value is not None:
            values[key] = value if isinstance(value, str) else str(value)
    return values


def load_stack_config() -> StackConfig:
    """The validated stack, or a :class:`pulumi.RunError` listing every problem with its config path.

    ``RunError`` is what Pulumi prints without a Python traceback, so ``pulumi preview`` shows the same
    messages as ``make check-config``.
    """
    stack = pulumi.get_stack()
    try:
        return from_pulumi_config(engine_config(), source=f"stack {stack!r}")
    except ConfigError as error:
        raise pulumi.RunError(str(error)) from None
