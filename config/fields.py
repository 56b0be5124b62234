"""The value types of the stack config's keys: names, quantities, driver pins, zones (one pattern each)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

PoolName = Annotated[
    str,
    Field(
        pattern=r"^[a-z]([-a-z0-9]*[a-z0-9])?$",
        max_length=30,
        description="Lowercase letters, digits and '-', starting with a letter: it becomes the GKE node "
        "pool, the taint value, the Service ollama-<name> and the backend name.",
    ),
]
DnsLabel = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]
GkeName = Annotated[str, Field(pattern=r"^[a-z]([-a-z0-9]*[a-z0-9])?$", max_length=40)]
Quantity = Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$")]
DriverVersion = Annotated[str, Field(pattern=r"^[0-9]{3}\.[0-9]{1,3}(\.[0-9]{1,3})?$", description="e.g. 570.124.06")]
DriverPin = Annotated[
    str,
    Field(
        pattern=r"^([0-9]{3}\.[0-9]{1,3}(\.[0-9]{1,3})?|R[0-9]{3})$",
        description="An exact build (570.124.06: Ubuntu nodes, existing clusters) or a branch (R570: COS nodes, "
        "which install the newest build of that branch published for the node's COS image).",
    ),
]
Zone = Annotated[str, Field(pattern=r"^[a-z]+-[a-z]+[0-9]+-[a-z]$", description="e.g. us-central1-a")]
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Cidr = Annotated[str, Field(pattern=r"^[0-9a-fA-F:.]+/[0-9]{1,3}$")]
