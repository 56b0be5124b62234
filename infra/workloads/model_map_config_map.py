"""ModelMapConfigMap: the routing document (:class:`config.model_map.ModelMap`) as a ConfigMap, exactly its JSON.

The router mounts it and reads the same schema it was derived with, so what is routed can never drift
from what was deployed. The document's content hash is exposed so the router's pods roll when it changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from config.model_map import ModelMap
from infra.k8s.helpers import app_labels, meta

CONFIG_MAP = "ollama-fleet-model-map"
KEY = "model-map.json"


@dataclass(frozen=True, slots=True)
class ModelMapConfigMapArgs:
    """The document (derived from the stack by :func:`config.derive.derive_model_map`) and its namespace."""

    document: ModelMap
    namespace: pulumi.Input[str]


class ModelMapConfigMap(pulumi.ComponentResource):
    """The model-map ConfigMap.

    Attributes:
        config_map_name: the ConfigMap's name (an output, so dependants wait for it).
        version: the document's content hash (``ModelMap.version``).
    """

    config_map_name: pulumi.Output[str]
    version: str

    def __init__(self, name: str, args: ModelMapConfigMapArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # The type token predates the rename and stays: it is part of the ConfigMap's URN.
        super().__init__("ollama-fleet:infra:ModelMap", name, None, opts)
        document = args.document
        self.version = document.version
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-configmap",
            metadata=meta(CONFIG_MAP, args.namespace, app_labels("ollama-fleet", "model-map")),
            data={KEY: document.to_json()},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.config_map_name = config_map.metadata.apply(lambda m: str(m.name))
        self.register_outputs({"configMap": self.config_map_name, "version": self.version})
