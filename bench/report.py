"""The table ``make bench`` prints (Markdown), the judgement against the targets, and the verdict line.

Every cell is the median over runs. Ratios are router ÷ nginx and router ÷ direct. The targets (the
``target`` column, stated in each row below) are judged on the router only, against nginx measured in the
same run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from bench.scenarios import Measurements
from bench.stats import median, ratio

TARGETS = ("direct", "nginx", "router")


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table; ``judge`` (router, nginx, direct) → (passed, target text), or None."""

    label: str
    metric: str
    fmt: str
    judge: Callable[[dict[str, float]], tuple[bool | None, str]] | None = None
    key: str = ""


def _cpu(cells: dict[str, float]) -> tuple[bool | None, str]:
    r = ratio(cells["router"], cells["nginx"])
    if math.isnan(r):
        return None, "≤ 2 × nginx (aim 1.5 ×)"
    return r <= 2.0, "≤ 2 × nginx (aim 1.5 ×" + (", met)" if r <= 1.5 else ", missed)")


def _lateness(cells: dict[str, float]) -> tuple[bool | None, str]:
    router, nginx = cells["router"], cells["nginx"]
    if math.isnan(router) or math.isnan(nginx):
        return None, "≤ 2 × nginx + 5 ms"
    limit = 2 * max(nginx, 0.0) + 5.0
    return router <= limit, f"≤ 2 × nginx + 5 ms (= {limit:.1f} ms)"


def _at_least(limit: float, text: str) -> Callable[[dict[str, float]], tuple[bool | None, str]]:
    def judge(cells: dict[str, float]) -> tuple[bool | None, str]:
        value = cells["router"]
        return (None if math.isnan(value) else value >= limit), text

    return judge


def _at_most(limit: float, text: str) -> Callable[[dict[str, float]], tuple[bool | None, str]]:
    def judge(cells: dict[str, float]) -> tuple[bool | None, str]:
        value = cells["router"]
        return (None if math.isnan(value) else value <= limit), text

    return judge


def rows(tags_tool: str) -> list[Row]:
    """The table's rows, in order."""
    return [
        Row("64 streams × 100 tokens, no delay: lines/s", "lines_per_s", "{:,.0f}"),
        Row("64 streams, no delay: proxy CPU µs per line", "cpu_us_per_line", "{:.2f}", _cpu, "cpu/line"),
        Row("256 streams × 50 tok/s: p50 lateness per line (ms)", "p50_lateness_ms", "{:.2f}"),
        Row("256 streams × 50 tok/s: p99 lateness per line (ms)", "p99_lateness_ms", "{:.2f}"),
        Row("256 × 50 tok/s: added p99 lateness vs direct (ms)", "added_p99_ms", "{:+.2f}", _lateness, "lateness"),
        Row("256 × 50 tok/s: proxy CPU µs per line", "cpu_us_per_paced_line", "{:.2f}"),
        Row(f"GET /api/tags, 64 conns ({tags_tool}): req/s", "tags_rps", "{:,.0f}", _at_least(5000, "≥ 5,000"), "tags"),
        Row("time to first line, 1 stream: p50 (ms)", "ttfb_p50_ms", "{:.2f}"),
        Row("time to first line, 1 stream: p99 (ms)", "ttfb_p99_ms", "{:.2f}", _at_most(4.0, "≤ 4 ms"), "ttfb"),
        Row("peak RSS after 256 streams (MiB)", "peak_rss_mib", "{:.1f}", _at_most(100.0, "≤ 100 MiB"), "rss"),
    ]


def cells_of(data: Measurements, metric: str) -> dict[str, float]:
    """Median per target for ``metric`` (added lateness is derived from the p99 medians)."""
    if metric == "added_p99_ms":
        p99 = cells_of(data, "p99_lateness_ms")
        return {t: p99[t] - p99["direct"] if t != "direct" else math.nan for t in TARGETS}
    per_target = data.values.get(metric, {})
    return {t: median(per_target.get(t, [])) for t in TARGETS}


def _show(value: float, fmt: str) -> str:
    return "–" if math.isnan(value) else fmt.format(value)


def _times(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f} ×"


def _verdict_cell(passed: bool | None) -> str:
    return {True: "pass", False: "**FAIL**", None: "not judged"}[passed]


def table(data: Measurements) -> tuple[list[str], list[str]]:
    """The Markdown table's lines, and the keys of the targets the router missed or could not be judged on."""
    lines = [
        "| scenario | direct | nginx | router | router ÷ nginx | router ÷ direct | target | result |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    missed: list[str] = []
    for row in rows(data.tags_tool):
        cells = cells_of(data, row.metric)
        target, result = "", ""
        if row.judge is not None:
            passed, target = row.judge(cells)
            result = _verdict_cell(passed)
            if passed is not True:
                missed.append(row.key if passed is False else f"{row.key} not judged")
        shown = [_show(cells[t], row.fmt) for t in TARGETS]
        by_nginx = _times(ratio(cells["router"], cells["nginx"]))
        by_direct = _times(ratio(cells["router"], cells["direct"]))
        lines.append(f"| {row.label} | {' | '.join(shown)} | {by_nginx} | {by_direct} | {target} | {result} |")
    verified = [f"{data.responses.get(t, 0):,} / {data.bad.get(t, 0)}" for t in TARGETS]
    bad_any = any(data.bad.get(t, 0) for t in TARGETS)
    lines.append(f"| responses verified / bad | {' | '.join(verified)} | | | every byte equal | "
                 f"{'**FAIL**' if bad_any else 'pass'} |")  # fmt: skip
    if bad_any:
        missed.append("bad bytes")
    return lines, missed


def verdict(missed: list[str], failed: dict[str, str]) -> str:
    """``bench: PASS`` or ``bench: FAIL (<which>)``."""
    reasons = [f"{name} did not start" for name in failed] + missed
    return "bench: PASS" if not reasons else f"bench: FAIL ({'; '.join(reasons)})"


def run_details(data: Measurements) -> list[str]:
    """Every run's value per metric and target (to judge the spread behind the medians)."""
    lines = []
    for metric, per_target in data.values.items():
        parts = [f"{t} " + ", ".join(f"{v:.4g}" for v in per_target[t]) for t in TARGETS if t in per_target]
        lines.append(f"- `{metric}`: " + "; ".join(parts))
    return lines
