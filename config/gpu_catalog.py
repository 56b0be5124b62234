"""The GPU catalog: typed facts per NVIDIA GPU, each with its source and whether it was verified.

The config validator refuses configs that cannot work (a GPU that GCP does not offer, a machine type that
cannot carry it, a driver branch outside what supports it). It reads those rules from here. Each fact is a
:class:`Fact` with a ``source``. A fact with ``verified=False`` is shown for information only and never
causes a config to be refused. The data lives in :mod:`config.gpu_data`; this module holds the types, the
lookup and the Markdown rendering used in docs/gpu-catalog.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any, Generic, TypeVar

T = TypeVar("T")

#: Marks an unverified fact in :func:`catalog_markdown`.
UNVERIFIED_MARK = "†"
#: Separates several sources inside one :attr:`Fact.source` string.
SOURCE_SEPARATOR = "; "


@dataclass(frozen=True, slots=True)
class Fact(Generic[T]):
    """One catalog value and where it comes from.

    ``source`` is a URL or an ``owner/repo path`` pair, with a note in parentheses where it helps. Several
    sources are joined with ``"; "``. ``verified=False`` means that no primary or clearly reliable
    source confirmed the value. The validator never refuses a config because of such a fact.
    """

    value: T
    source: str
    verified: bool = True

    @property
    def sources(self) -> tuple[str, ...]:
        """The individual sources in :attr:`source`, in order (``"; "`` inside parentheses does not split)."""
        return _split_sources(self.source)


def _split_sources(text: str) -> tuple[str, ...]:
    parts: list[str] = []
    depth = 0
    start = 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif depth == 0 and text.startswith(SOURCE_SEPARATOR, i):
            parts.append(text[start:i])
            start = i + len(SOURCE_SEPARATOR)
    parts.append(text[start:])
    return tuple(part.strip() for part in parts if part.strip())


@dataclass(frozen=True, slots=True)
class GpuInfo:
    """What ollama-fleet knows about one GPU model.

    ``key`` is the GCP accelerator type string (``nvidia-tesla-t4``). GPUs that GCP never offered use the
    same naming pattern (``nvidia-tesla-m40``). GPUs attached to N1 machines explicitly list
    ``attach_families``/``attach_counts`` and have no ``fixed_machines``. GPUs that come built into their
    machine types (A2, A3, G2) have ``fixed_machines`` and empty attach fields.
    """

    key: str
    name: str
    architecture: str
    compute_capability: Fact[tuple[int, int]]
    vram_gib: Fact[int]
    gcp_offered: Fact[bool]
    attach_families: Fact[tuple[str, ...]]
    attach_counts: Fact[tuple[int, ...]]
    fixed_machines: Fact[Mapping[str, int]]
    default_machine_type: str | None
    min_driver_branch: Fact[int]
    max_driver_branch: Fact[int | None]
    official_ollama: Fact[bool]

    def facts(self) -> dict[str, Fact[Any]]:
        """Every :class:`Fact` field of this GPU, by field name, in declaration order."""
        return {f.name: value for f in fields(self) if isinstance(value := getattr(self, f.name), Fact)}


def _build_catalog(gpus: Iterable[GpuInfo]) -> Mapping[str, GpuInfo]:
    catalog: dict[str, GpuInfo] = {}
    for gpu in gpus:
        if gpu.key in catalog:
            raise ValueError(f"duplicate GPU catalog key {gpu.key!r}")
        catalog[gpu.key] = gpu
    return MappingProxyType(catalog)


class _Catalog(Mapping[str, GpuInfo]):
    """The catalog built from :mod:`config.gpu_data` on first use.

    Loading lazily lets ``gpu_data`` import the types above, whichever of the two modules is imported first.
    """

    def __init__(self) -> None:
        self._data: Mapping[str, GpuInfo] | None = None

    def _gpus(self) -> Mapping[str, GpuInfo]:
        if self._data is None:
            from config.gpu_data import GPUS

            self._data = _build_catalog(GPUS)
        return self._data

    def __getitem__(self, key: str) -> GpuInfo:
        return self._gpus()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._gpus())

    def __len__(self) -> int:
        return len(self._gpus())

    def __repr__(self) -> str:
        return f"GPU_CATALOG({', '.join(self._gpus())})"


GPU_CATALOG: Mapping[str, GpuInfo] = _Catalog()


def gpu_info(key: str) -> GpuInfo | None:
    """The catalog entry for a GCP accelerator type string, or ``None`` for an unknown GPU."""
    return GPU_CATALOG.get(key)


# --- Markdown rendering ---------------------------------------------------------------------------


def _cc(value: tuple[int, int]) -> str:
    return f"{value[0]}.{value[1]}"


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _attach(gpu: GpuInfo) -> str:
    families = gpu.attach_families.value
    if not families:
        return "—"
    counts = ", ".join(str(n) for n in gpu.attach_counts.value)
    return f"{'/'.join(families)} × {counts}"


def _fixed(value: Mapping[str, int]) -> str:
    return ", ".join(f"{machine}={count}" for machine, count in value.items()) or "—"


def _max_branch(value: int | None) -> str:
    return "current" if value is None else f"R{value}"


class _SourceIndex:
    """Numbers sources in order of first use."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}

    def refs(self, *facts: Fact[Any]) -> str:
        numbers: list[int] = []
        for fact in facts:
            for source in fact.sources:
                number = self.numbers.setdefault(source, len(self.numbers) + 1)
                if number not in numbers:
                    numbers.append(number)
        return "[" + ",".join(str(n) for n in numbers) + "]"


def _cell(text: str, index: _SourceIndex, *facts: Fact[Any]) -> str:
    mark = "" if all(f.verified for f in facts) else UNVERIFIED_MARK
    return f"{text}{mark} {index.refs(*facts)}"


_COLUMNS = (
    "GPU (`gpu:` key)",
    "Name",
    "Architecture",
    "Compute capability",
    "VRAM GiB",
    "On GCP",
    "Attach (family × GPUs)",
    "Built into machine types (GPUs)",
    "Default machine type",
    "Oldest driver",
    "Last driver",
    "Official Ollama",
)


def catalog_markdown(catalog: Mapping[str, GpuInfo] | None = None) -> str:
    """A Markdown table of the catalog for docs/gpu-catalog.md, then the numbered sources its cells cite.

    Every fact cell cites its sources as ``[n]``. An unverified fact carries ``†``.
    """
    index = _SourceIndex()
    rows: list[str] = []
    cells: list[Callable[[GpuInfo], str]] = [
        lambda g: f"`{g.key}`",
        lambda g: g.name,
        lambda g: g.architecture,
        lambda g: _cell(_cc(g.compute_capability.value), index, g.compute_capability),
        lambda g: _cell(str(g.vram_gib.value), index, g.vram_gib),
        lambda g: _cell(_yes_no(g.gcp_offered.value), index, g.gcp_offered),
        lambda g: _cell(_attach(g), index, g.attach_families, g.attach_counts),
        lambda g: _cell(_fixed(g.fixed_machines.value), index, g.fixed_machines),
        lambda g: f"`{g.default_machine_type}`" if g.default_machine_type else "—",
        lambda g: _cell(f"R{g.min_driver_branch.value}", index, g.min_driver_branch),
        lambda g: _cell(_max_branch(g.max_driver_branch.value), index, g.max_driver_branch),
        lambda g: _cell(_yes_no(g.official_ollama.value), index, g.official_ollama),
    ]
    for gpu in (catalog if catalog is not None else GPU_CATALOG).values():
        rows.append("| " + " | ".join(render(gpu) for render in cells) + " |")
    header = "| " + " | ".join(_COLUMNS) + " |"
    rule = "|" + "|".join("---" for _ in _COLUMNS) + "|"
    sources = [f"{n}. {source}" for source, n in index.numbers.items()]
    legend = (
        f"{UNVERIFIED_MARK} unverified: shown for information; the config validator never refuses a "
        "config because of an unverified fact."
    )
    return "\n".join([header, rule, *rows, "", legend, "", "Sources:", "", *sources, ""])
