"""The routing table: from a model name as a client wrote it to the backends that serve it.

Built once per model map and never mutated, so the map can be swapped by replacing one reference
(the live state's ``table``) while requests in flight keep the table they started with.
Names compare as Ollama compares them (:func:`config.model_names.model_key`): ``llama3.2``,
``LLAMA3.2:latest`` and ``registry.ollama.ai/library/llama3.2`` are one model. An alias resolves to its
target's route and tells the proxy to rewrite ``model`` in the body; an unknown model goes to the
map's ``default_backend`` when it has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.model_map import ModelMap, RouteTarget
from config.model_names import canonical_name, model_key

UNROUTED = "(unrouted)"
"""The metrics label for models sent to the default backend (client-chosen names are not labels)."""


@dataclass(frozen=True, slots=True)
class Resolution:
    """Where a model name goes.

    Attributes:
        model: the canonical name of the routed model (a metrics label), or :data:`UNROUTED`.
        targets: the route's backends with their priority and weight.
        rewrite: the name to put in the request body instead of the client's (aliases only).
    """

    model: str
    targets: tuple[RouteTarget, ...]
    rewrite: str | None = None


class RoutingTable:
    """One model map, indexed for lookups."""

    def __init__(self, model_map: ModelMap) -> None:
        self.model_map = model_map
        self.version = model_map.version
        self._routes: dict[str, Resolution] = {
            key: Resolution(route.model, tuple(route.backends)) for key, route in model_map.routes_by_key().items()
        }
        self._aliases: dict[str, str] = {model_key(alias): target for alias, target in model_map.aliases.items()}
        default = model_map.default_backend
        self._default = (
            None if default is None else Resolution(UNROUTED, (RouteTarget(name=default, priority=0, weight=1.0),))
        )

    def resolve(self, name: str) -> Resolution | None:
        """The route for ``name``, or None if nothing serves it; raises InvalidModelNameError."""
        key = model_key(name)
        route = self._routes.get(key)
        if route is not None:
            return route
        target = self._aliases.get(key)
        if target is not None:
            aliased = self._routes.get(model_key(target))
            if aliased is not None:
                return Resolution(aliased.model, aliased.targets, rewrite=target)
            if self._default is not None:
                return Resolution(UNROUTED, self._default.targets, rewrite=target)
        return self._default

    def routed_keys(self) -> dict[str, tuple[RouteTarget, ...]]:
        """Every routed model's comparison key and its backends (what merged listings may show)."""
        return {key: route.targets for key, route in self._routes.items()}

    def aliases(self) -> dict[str, str]:
        """Alias display name → target comparison key, for merged listings."""
        return {canonical_name(alias): model_key(target) for alias, target in self.model_map.aliases.items()}

    @property
    def backend_names(self) -> list[str]:
        """Every backend of the map, in map order."""
        return [backend.name for backend in self.model_map.backends]
