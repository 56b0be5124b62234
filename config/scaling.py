"""Scale to zero: a pool whose Ollama the router puts to sleep when unused and wakes for the next request.

The stack says it per pool (``ollama.scaleToZero: {idleAfter: 30m, wakeTimeout: 15m}``); the model map
carries the same facts for the router as a backend's ``scale`` object (seconds, plus the StatefulSet to
scale and the replicas a wake restores). Durations are written as Kubernetes users write them: a whole
number and one unit, ``90s``, ``30m``, ``1h``.
"""

from __future__ import annotations

import re
from typing import Annotated, Self

from pydantic import AfterValidator, Field, model_validator

from config.base import CamelModel, SnakeModel

DURATION_PATTERN = r"^[0-9]+(s|m|h)$"
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}

MIN_IDLE_AFTER_S = 60
"""Routers renew a pool's activity at most every 30 s; a shorter idle time could sleep a pool mid-conversation."""
MAX_WAKE_TIMEOUT_S = 3600
"""The HTTPS load balancer's response timeout (infra/router_tls.py): a longer hold would be cut there first."""


def duration_seconds(text: str) -> int:
    """Seconds in a duration such as ``30m``; raise ValueError naming the accepted forms otherwise."""
    match = re.fullmatch(DURATION_PATTERN, text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration; write a whole number and s, m or h, e.g. 90s, 30m, 1h")
    return int(text.strip()[:-1]) * _UNIT_SECONDS[match.group(1)]


def _checked(text: str) -> str:
    duration_seconds(text)
    return text


Duration = Annotated[
    str,
    AfterValidator(_checked),
    Field(json_schema_extra={"pattern": DURATION_PATTERN}, description="A whole number and a unit: 90s, 30m, 1h."),
]


class ScaleToZeroSpec(CamelModel):
    """When the router may put the pool to sleep, and how long a request may wait for it to wake."""

    idle_after: Duration = Field(
        default="30m", description="Sleep after this long without a request from any router replica."
    )
    wake_timeout: Duration = Field(
        default="15m",
        description="Hold a request this long for the pool to wake (node, driver, model load), then answer 503.",
    )

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.idle_after_s < MIN_IDLE_AFTER_S:
            raise ValueError(
                f"idleAfter {self.idle_after!r} is shorter than {MIN_IDLE_AFTER_S}s: routers share activity at "
                "most every 30 s, so the pool could sleep between two requests; use 1m or more"
            )
        if not 0 < self.wake_timeout_s <= MAX_WAKE_TIMEOUT_S:
            raise ValueError(
                f"wakeTimeout {self.wake_timeout!r} must be above 0 and at most 1h (the HTTPS load balancer "
                "cuts a response after 3600 s); a new GPU node plus a model load usually takes 3-10 minutes"
            )
        return self

    @property
    def idle_after_s(self) -> int:
        """``idleAfter`` in seconds."""
        return duration_seconds(self.idle_after)

    @property
    def wake_timeout_s(self) -> int:
        """``wakeTimeout`` in seconds."""
        return duration_seconds(self.wake_timeout)


class BackendScale(SnakeModel):
    """A backend's ``scale`` object in the model map: the StatefulSet the router sleeps and wakes."""

    namespace: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]
    statefulset: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]
    replicas: Annotated[int, Field(ge=1, description="What a wake scales the StatefulSet to.")]
    idle_after_s: Annotated[float, Field(gt=0, description="Sleep after this long without requests.")]
    wake_timeout_s: Annotated[float, Field(gt=0, description="Hold a request this long for a wake.")]


def activity_lease(backend: str) -> str:
    """The coordination.k8s.io Lease whose renewTime every router bumps while it serves ``backend``."""
    return f"ollama-fleet-activity-{backend}"
