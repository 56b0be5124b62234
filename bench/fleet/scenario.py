"""The fleet scenario: pools of simulated GPU servers, the models, and the seeded open-loop workload.

Every time here is in *simulated* seconds; :attr:`Scenario.scale` real seconds stand for one of them, so
a quarter of an hour of fleet time runs in well under a minute. The default scenario: four models with
Zipf-skewed popularity (1, 1/2, 1/3, 1/4), two pools of two replicas each whose 15 GB of VRAM hold one or
two of the models at once, ``OLLAMA_NUM_PARALLEL=2``, loads at 1.5 s/GB (T4) and 1 s/GB (V100), and an
offered load of about 70 % of what the fleet can answer when each replica serves one model at a time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ollama_sim.modelinfo import facts_for

GB = 1e9


@dataclass(frozen=True, slots=True)
class Pool:
    """One GPU type: its replicas and their speed."""

    name: str
    replicas: int
    vram_gb: float
    load_seconds_per_gb: float
    token_rate: float

    def service_seconds(self, tokens: int) -> float:
        """Time one answer holds a parallel slot: its tokens at the pool's rate."""
        return tokens / self.token_rate


@dataclass(frozen=True, slots=True)
class Arrival:
    """One request of the workload."""

    index: int
    at: float
    model: str
    stream: bool


@dataclass(frozen=True, slots=True)
class Scenario:
    """A fleet and its workload; times in simulated seconds, ``scale`` real seconds per simulated one."""

    name: str
    models: tuple[str, ...]
    popularity: tuple[float, ...]
    pools: tuple[Pool, ...]
    num_parallel: int = 2
    tokens: int = 100
    keep_alive: float = 300.0
    ps_interval: float = 5.0
    utilisation: float = 0.7
    duration: float = 875.0
    stream_share: float = 0.7
    scale: float = 0.04
    seed: int = 20261205
    notes: tuple[str, ...] = field(default=())

    def model_gb(self, model: str) -> float:
        """A model's size (what the simulator reports for it, and what it takes in VRAM)."""
        return facts_for(model, 0).size / GB

    def capacity(self) -> float:
        """Requests per simulated second the fleet answers when each replica serves one model at a time."""
        return sum(pool.replicas * self.num_parallel / pool.service_seconds(self.tokens) for pool in self.pools)

    def rate(self) -> float:
        """Offered requests per simulated second."""
        return self.utilisation * self.capacity()

    def arrivals(self) -> list[Arrival]:
        """The seeded Poisson workload: the same list on every call, for every policy."""
        chance = random.Random(self.seed)
        arrivals: list[Arrival] = []
        at = chance.expovariate(self.rate())
        while at < self.duration:
            model = chance.choices(self.models, weights=self.popularity)[0]
            arrivals.append(Arrival(len(arrivals), at, model, chance.random() < self.stream_share))
            at += chance.expovariate(self.rate())
        return arrivals


DEFAULT = Scenario(
    name="default",
    models=("qwen2.5:7b", "llama3.1:8b", "mistral-nemo:12b", "qwen2.5:14b"),
    popularity=(1.0, 1 / 2, 1 / 3, 1 / 4),
    pools=(
        Pool("t4", replicas=2, vram_gb=15.0, load_seconds_per_gb=1.5, token_rate=10.0),
        Pool("v100", replicas=2, vram_gb=15.5, load_seconds_per_gb=1.0, token_rate=20.0),
    ),
)
"""The scenario ``make bench-fleet`` runs."""

TINY = Scenario(
    name="tiny",
    models=("qwen2.5:7b", "llama3.1:8b"),
    popularity=(2.0, 1.0),
    pools=(Pool("t4", replicas=1, vram_gb=6.0, load_seconds_per_gb=1.0, token_rate=50.0),),
    tokens=10,
    duration=20.0,
    utilisation=0.5,
    scale=0.02,
)
"""A few seconds of a two-model, one-replica fleet: what the harness's own test runs."""
