"""The fleet benchmark's table, its clairvoyant lower bound, and the verdict against the targets.

Times are simulated seconds. Cold starts are the loads the simulated replicas performed (their
schedulers count them), not what the router believes. The clairvoyant bound is what a placement that
knew the whole workload in advance could at best reach: each model requested is loaded exactly once, on
the pool that loads it fastest, before anything else happens, and no request ever waits for a slot.
So the first request of each model pays that load plus one token; every other request pays one token on
the fastest pool. It ignores queueing, so it is a lower bound, not a policy anyone can run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.fleet.drive import Outcome
from bench.fleet.scenario import Arrival, Scenario
from bench.stats import percentile, ratio

HEADER = (
    "| policy | requests | completed | errors | cold starts | evictions | TTFT p50 (s) | TTFT p99 (s) "
    "| non-streamed p99 (s) |"
)
COLUMNS = HEADER.count("|") - 1


@dataclass(slots=True)
class PolicyResult:
    """One policy's run on the scenario's workload."""

    policy: str
    outcomes: list[Outcome]
    cold_starts: int
    evictions: int
    router_counts: dict[str, int]

    @property
    def completed(self) -> int:
        """Requests answered 200 with the exact bytes."""
        return sum(1 for outcome in self.outcomes if outcome.error is None)

    @property
    def errors(self) -> int:
        """Requests that failed, were refused, or got different bytes."""
        return len(self.outcomes) - self.completed

    def ttft(self, fraction: float) -> float:
        """A quantile of the time to first token of the completed streamed requests."""
        return percentile([o.ttft for o in self.outcomes if o.ttft is not None and o.error is None], fraction)

    def non_streamed(self, fraction: float) -> float:
        """A quantile of the completion time of the completed non-streamed requests."""
        values = [o.latency for o in self.outcomes if not o.arrival.stream and o.latency is not None and not o.error]
        return percentile(values, fraction)


def clairvoyant(scenario: Scenario, arrivals: list[Arrival]) -> tuple[int, list[float]]:
    """Cold starts and streamed requests' times to first token of the clairvoyant bound (see the docstring)."""
    token = 1 / max(pool.token_rate for pool in scenario.pools)
    fastest = min(pool.load_seconds_per_gb for pool in scenario.pools)
    seen: set[str] = set()
    ttfts: list[float] = []
    for arrival in arrivals:
        first = arrival.model not in seen
        seen.add(arrival.model)
        if arrival.stream:
            ttfts.append(token + (scenario.model_gb(arrival.model) * fastest if first else 0.0))
    return len(seen), ttfts


def _seconds(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.2f}"


def table(results: list[PolicyResult], bound: tuple[int, list[float]]) -> list[str]:
    """The Markdown table: one row per policy, then the clairvoyant bound."""
    lines = [HEADER, "|" + "---|" * COLUMNS]
    for result in results:
        cells = [
            f"`{result.policy}`",
            str(len(result.outcomes)),
            str(result.completed),
            str(result.errors),
            str(result.cold_starts),
            str(result.evictions),
            _seconds(result.ttft(0.5)),
            _seconds(result.ttft(0.99)),
            _seconds(result.non_streamed(0.99)),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    loads, ttfts = bound
    cells = ["clairvoyant bound", "—", "—", "—", str(loads), "0", _seconds(percentile(ttfts, 0.5))]
    cells += [_seconds(percentile(ttfts, 0.99)), "—"]
    lines.append("| " + " | ".join(cells) + " |")
    return lines


def verdict(results: list[PolicyResult]) -> list[str]:
    """Each target, met or missed, with the figures it compares."""
    by = {result.policy: result for result in results}
    warm, least = by.get("warm-first"), by.get("least-outstanding")
    if warm is None or least is None:
        return ["targets: not judged (warm-first and least-outstanding must both run)"]
    cut = ratio(least.cold_starts, warm.cold_starts) if warm.cold_starts else math.inf
    p99 = ratio(warm.ttft(0.99), least.ttft(0.99))
    warm_p99, least_p99 = _seconds(warm.ttft(0.99)), _seconds(least.ttft(0.99))
    checks = [
        (cut >= 5, f"cold starts cut ≥ 5×: {least.cold_starts} → {warm.cold_starts} ({cut:.1f}×)"),
        (p99 <= 1 / 3, f"p99 TTFT ≤ 1/3 of least-outstanding's: {warm_p99} vs {least_p99} s ({p99:.2f})"),
        (warm.completed >= least.completed, f"no fewer completed requests: {warm.completed} vs {least.completed}"),
        (warm.errors == 0, f"0 errors with warm-first: {warm.errors}"),
    ]
    return [f"- {'met' if passed else 'MISSED'}: {text}" for passed, text in checks]


def scenario_lines(scenario: Scenario, arrivals: list[Arrival]) -> list[str]:
    """What was run: the fleet, the models, the workload and the time scale."""
    pools = "; ".join(
        f"{p.name}: {p.replicas} replicas, {p.vram_gb:g} GB VRAM, load {p.load_seconds_per_gb:g} s/GB, "
        f"{p.token_rate:g} tokens/s"
        for p in scenario.pools
    )
    total = sum(scenario.popularity)
    models = ", ".join(
        f"{m} ({scenario.model_gb(m):.1f} GB, {share / total:.0%})"
        for m, share in zip(scenario.models, scenario.popularity, strict=True)
    )
    streamed = sum(1 for a in arrivals if a.stream)
    return [
        f"- scenario `{scenario.name}`, seed {scenario.seed}: {len(arrivals)} requests ({streamed} streamed) "
        f"over {scenario.duration:g} s, Poisson at {scenario.rate():.2f}/s = {scenario.utilisation:.0%} of "
        f"{scenario.capacity():.2f}/s (every replica's {scenario.num_parallel} slots busy with one model)",
        f"- pools: {pools}; OLLAMA_NUM_PARALLEL={scenario.num_parallel}, keep-alive {scenario.keep_alive:g} s, "
        f"answers of {scenario.tokens} tokens",
        f"- models: {models}",
        f"- time scale: 1 simulated second = {scenario.scale * 1000:g} ms; residency polls every "
        f"{scenario.ps_interval:g} s (simulated)",
    ]
