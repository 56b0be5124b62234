"""The GPU catalog: coverage, sources on every fact, the facts the validator relies on, the catalog page's table."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest

from config.gpu_catalog import GPU_CATALOG, UNVERIFIED_MARK, Fact, GpuInfo, catalog_markdown, gpu_info
from config.gpu_data import GPUS

REQUIRED = (
    "nvidia-tesla-k80",
    "nvidia-tesla-m40",
    "nvidia-tesla-m60",
    "nvidia-tesla-p4",
    "nvidia-tesla-p100",
    "nvidia-tesla-v100",
    "nvidia-tesla-t4",
    "nvidia-tesla-a100",
    "nvidia-a100-80gb",
    "nvidia-l4",
    "nvidia-h100-80gb",
    "nvidia-h200-141gb",
)
N1_GPUS = ("nvidia-tesla-p4", "nvidia-tesla-p100", "nvidia-tesla-v100", "nvidia-tesla-t4")
ALL = sorted(GPU_CATALOG)


def _info(key: str) -> GpuInfo:
    info = gpu_info(key)
    assert info is not None, key
    return info


# --- Coverage and lookup ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", REQUIRED)
def test_required_gpu_is_present(key: str) -> None:
    assert _info(key).key == key


def test_catalog_is_keyed_by_gpu_key_in_data_order() -> None:
    assert list(GPU_CATALOG) == [gpu.key for gpu in GPUS]
    assert all(GPU_CATALOG[key].key == key for key in GPU_CATALOG)
    assert len(set(GPU_CATALOG)) == len(GPUS)


def test_unknown_gpu_is_none() -> None:
    assert gpu_info("nvidia-tesla-k40") is None
    assert "nvidia-tesla-k40" not in GPU_CATALOG


def test_catalog_is_read_only() -> None:
    with pytest.raises(TypeError):
        GPU_CATALOG["x"] = _info("nvidia-l4")  # type: ignore[index]
    with pytest.raises(TypeError):
        _info("nvidia-l4").fixed_machines.value["g2-standard-4"] = 2  # type: ignore[index]


def test_keys_follow_the_gcp_accelerator_naming() -> None:
    assert all(re.fullmatch(r"nvidia-[a-z0-9-]+", key) for key in GPU_CATALOG)


# --- Every fact has a source ------------------------------------------------------------------------


@pytest.mark.parametrize("key", ALL)
def test_every_fact_has_a_source(key: str) -> None:
    facts = _info(key).facts()
    assert len(facts) == 9
    for name, fact in facts.items():
        assert isinstance(fact, Fact)
        assert fact.source.strip(), f"{key}.{name} has no source"
        assert fact.sources, f"{key}.{name} has no source"
        assert all(s.strip() == s and s for s in fact.sources)


def test_no_local_file_paths_in_sources() -> None:
    for gpu in GPU_CATALOG.values():
        for fact in gpu.facts().values():
            assert not re.search(r"(^|[\s(])(/|~/|file:)", fact.source), fact.source


def test_sources_split_on_separator_but_not_inside_parentheses() -> None:
    fact = Fact(1, "https://a.example (one; two); owner/repo path")
    assert fact.sources == ("https://a.example (one; two)", "owner/repo path")
    assert Fact(1, "only").sources == ("only",)


# --- Facts the validator relies on ------------------------------------------------------------------


def test_k80_is_kepler_gone_from_gcp_and_last_supported_by_r470() -> None:
    k80 = _info("nvidia-tesla-k80")
    assert k80.compute_capability.value == (3, 7)
    assert k80.max_driver_branch == Fact(470, k80.max_driver_branch.source, verified=True)
    assert k80.gcp_offered.value is False and k80.gcp_offered.verified
    assert k80.official_ollama.value is False and k80.official_ollama.verified
    assert k80.default_machine_type is None


@pytest.mark.parametrize("key", ["nvidia-tesla-m40", "nvidia-tesla-m60"])
def test_maxwell_never_on_gcp(key: str) -> None:
    info = _info(key)
    assert info.gcp_offered.value is False and info.gcp_offered.verified
    assert info.compute_capability.value == (5, 2)
    assert info.default_machine_type is None
    assert info.attach_families.value == () and dict(info.fixed_machines.value) == {}


@pytest.mark.parametrize(
    ("key", "capability"),
    [
        ("nvidia-tesla-p4", (6, 1)),
        ("nvidia-tesla-p100", (6, 0)),
        ("nvidia-tesla-v100", (7, 0)),
        ("nvidia-tesla-t4", (7, 5)),
        ("nvidia-tesla-a100", (8, 0)),
        ("nvidia-a100-80gb", (8, 0)),
        ("nvidia-l4", (8, 9)),
        ("nvidia-h100-80gb", (9, 0)),
        ("nvidia-h200-141gb", (9, 0)),
    ],
)
def test_compute_capability(key: str, capability: tuple[int, int]) -> None:
    fact = _info(key).compute_capability
    assert fact.value == capability and fact.verified


@pytest.mark.parametrize("key", ["nvidia-tesla-m40", "nvidia-tesla-m60", "nvidia-tesla-p4", "nvidia-tesla-v100"])
def test_maxwell_pascal_volta_end_with_r580(key: str) -> None:
    fact = _info(key).max_driver_branch
    assert fact.value == 580 and fact.verified


@pytest.mark.parametrize("key", ["nvidia-tesla-t4", "nvidia-l4", "nvidia-tesla-a100", "nvidia-h200-141gb"])
def test_current_gpus_have_no_last_branch(key: str) -> None:
    assert _info(key).max_driver_branch.value is None


@pytest.mark.parametrize("key", ALL)
def test_official_ollama_means_compute_capability_5_0_or_newer(key: str) -> None:
    info = _info(key)
    assert info.official_ollama.value == (info.compute_capability.value >= (5, 0))


@pytest.mark.parametrize("key", ALL)
def test_driver_branches_are_ordered(key: str) -> None:
    info = _info(key)
    low, high = info.min_driver_branch.value, info.max_driver_branch.value
    assert low >= 300
    assert high is None or low < high


def test_l4_machine_types() -> None:
    l4 = _info("nvidia-l4")
    assert dict(l4.fixed_machines.value) == {
        "g2-standard-4": 1,
        "g2-standard-8": 1,
        "g2-standard-12": 1,
        "g2-standard-16": 1,
        "g2-standard-32": 1,
        "g2-standard-24": 2,
        "g2-standard-48": 4,
        "g2-standard-96": 8,
    }
    assert l4.fixed_machines.verified
    assert l4.attach_families.value == () and l4.attach_counts.value == ()
    assert l4.default_machine_type == "g2-standard-8"


def test_t4_attaches_to_n1() -> None:
    t4 = _info("nvidia-tesla-t4")
    assert t4.attach_families.value == ("n1",) and t4.attach_families.verified
    assert t4.attach_counts.value == (1, 2, 4)
    assert dict(t4.fixed_machines.value) == {}
    assert t4.default_machine_type == "n1-standard-8"


@pytest.mark.parametrize("key", N1_GPUS)
def test_n1_gpu_counts(key: str) -> None:
    counts = _info(key).attach_counts.value
    assert counts == ((1, 2, 4, 8) if key == "nvidia-tesla-v100" else (1, 2, 4))


@pytest.mark.parametrize(
    ("key", "machines"),
    [
        (
            "nvidia-tesla-a100",
            {
                "a2-highgpu-1g": 1,
                "a2-highgpu-2g": 2,
                "a2-highgpu-4g": 4,
                "a2-highgpu-8g": 8,
                "a2-megagpu-16g": 16,
            },
        ),
        (
            "nvidia-a100-80gb",
            {"a2-ultragpu-1g": 1, "a2-ultragpu-2g": 2, "a2-ultragpu-4g": 4, "a2-ultragpu-8g": 8},
        ),
        ("nvidia-h200-141gb", {"a3-ultragpu-8g": 8}),
    ],
)
def test_built_in_machine_types(key: str, machines: Mapping[str, int]) -> None:
    assert dict(_info(key).fixed_machines.value) == machines


def test_h100_shapes() -> None:
    fixed = _info("nvidia-h100-80gb").fixed_machines.value
    assert fixed["a3-highgpu-8g"] == 8
    assert fixed["a3-highgpu-1g"] == 1
    assert _info("nvidia-h100-mega-80gb").fixed_machines.value["a3-megagpu-8g"] == 8


@pytest.mark.parametrize("key", ALL)
def test_placement_is_consistent(key: str) -> None:
    info = _info(key)
    families, counts = info.attach_families.value, info.attach_counts.value
    fixed = info.fixed_machines.value
    assert bool(families) == bool(counts), "attach families and counts go together"
    assert not (families and fixed), "a GPU is attached explicitly or built in, not both"
    assert all(n >= 1 for n in (*counts, *fixed.values()))
    default = info.default_machine_type
    if info.gcp_offered.value:
        assert default is not None
        assert default in fixed or default.split("-", 1)[0] in families
        assert 1 in counts or fixed[default] >= 1
    else:
        assert default is None


@pytest.mark.parametrize("key", ALL)
def test_vram_is_plausible(key: str) -> None:
    assert 8 <= _info(key).vram_gib.value <= 141


# --- the catalog page's table -----------------------------------------------------------------------


def test_markdown_has_one_row_per_gpu() -> None:
    text = catalog_markdown()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == list(GPU_CATALOG)
    header = text.splitlines()[0]
    assert all(row.count("|") == header.count("|") for row in rows)


def test_markdown_marks_unverified_facts_and_only_those() -> None:
    text = catalog_markdown()
    rows = {line.split("`")[1]: line for line in text.splitlines() if line.startswith("| `")}
    k80 = rows["nvidia-tesla-k80"]
    assert "R340" + UNVERIFIED_MARK in k80  # unverified oldest driver
    assert "R470 [" in k80  # verified last driver carries no mark
    assert UNVERIFIED_MARK not in rows["nvidia-tesla-t4"]
    for key, row in rows.items():
        any_unverified = any(not f.verified for f in _info(key).facts().values())
        assert (UNVERIFIED_MARK in row) == any_unverified, key


def test_markdown_sources_are_numbered_and_cited() -> None:
    text = catalog_markdown()
    table, _, sources = text.partition("Sources:")
    numbered = re.findall(r"^(\d+)\. (.+)$", sources, flags=re.MULTILINE)
    assert [int(n) for n, _ in numbered] == list(range(1, len(numbered) + 1))
    cited = {int(n) for group in re.findall(r"\[([\d,]+)\]", table) for n in group.split(",")}
    assert cited == set(range(1, len(numbered) + 1))
    listed = {source for _, source in numbered}
    every = {s for gpu in GPU_CATALOG.values() for fact in gpu.facts().values() for s in fact.sources}
    assert listed == every
    assert "ollama/ollama docs/gpu.mdx" in listed


def test_markdown_of_a_custom_catalog() -> None:
    t4 = _info("nvidia-tesla-t4")
    text = catalog_markdown({t4.key: t4})
    assert [line.split("`")[1] for line in text.splitlines() if line.startswith("| `")] == [t4.key]
    assert "n1 × 1, 2, 4" in text and "`n1-standard-8`" in text
