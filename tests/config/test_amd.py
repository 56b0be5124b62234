"""AMD pools: accepted on an existing cluster with Ollama's ROCm build, refused where they cannot work."""

from __future__ import annotations

from typing import Any

from config.amd_data import AMD_CATALOG, amd_info
from config.amd_rules import is_rocm_image
from tests.config.stacks import accepted, at, refused, stack_data

RX_7900_XTX = "amd-radeon-rx-7900-xtx"


def _with_amd_pool(stack: str = "home", **pool: Any) -> dict[str, Any]:
    data = stack_data(stack)
    spec: dict[str, Any] = {
        "name": "radeon",
        "gpu": RX_7900_XTX,
        "ollama": {"image": "ollama/ollama:0.32.15-rocm", "models": ["phi4:14b"]},
    }
    if stack == "home":
        spec["nodeSelector"] = {"amd.com/gpu.product-name": "AMD_Radeon_RX_7900_XTX"}
    spec.update(pool)
    data["pools"].append(spec)
    return data


def test_an_amd_pool_with_the_rocm_build_is_accepted_on_an_existing_cluster() -> None:
    stack = accepted(_with_amd_pool())
    pool = stack.pool("radeon")
    assert pool is not None and pool.gpu == RX_7900_XTX


def test_amd_on_gke_is_refused_with_the_way_out() -> None:
    data = _with_amd_pool("dev", zones=["us-central1-a"])
    problems = at(refused(data), f"pools[{len(data['pools']) - 1}].gpu")
    assert any("GKE offers none" in p.message and "cluster.type: existing" in p.fix for p in problems)


def test_a_card_ollamas_rocm_build_does_not_support_is_refused_unless_overridden() -> None:
    data = _with_amd_pool(gpu="amd-radeon-rx-6700-xt")
    index = len(data["pools"]) - 1
    (problem,) = at(refused(data), f"pools[{index}].gpu")
    assert "gfx1031" in problem.message and "HSA_OVERRIDE_GFX_VERSION" in problem.fix
    data["pools"][index]["ollama"]["env"] = {"HSA_OVERRIDE_GFX_VERSION": "10.3.0"}
    accepted(data)


def test_a_non_rocm_image_on_an_amd_pool_is_refused_with_the_rocm_tag_as_fix() -> None:
    data = _with_amd_pool(ollama={"image": "ollama/ollama:0.32.15"})
    (problem,) = at(refused(data), f"pools[{len(data['pools']) - 1}].ollama.image")
    assert "not a ROCm build" in problem.message and "ollama/ollama:0.32.15-rocm" in problem.fix


def test_nvidia_driver_pins_on_an_amd_pool_are_refused() -> None:
    data = _with_amd_pool(driver="570.124.06")
    data["pools"][-1]["ollama"]["minDriver"] = "470.42.01"
    index = len(data["pools"]) - 1
    problems = refused(data)
    assert at(problems, f"pools[{index}].driver") and at(problems, f"pools[{index}].ollama.minDriver")


def test_an_unknown_gpu_names_the_amd_cards_too() -> None:
    problems = refused(_with_amd_pool(gpu="amd-radeon-rx-7900"))
    assert any(RX_7900_XTX in p.fix for p in problems)


def test_rocm_images_are_told_apart_by_their_tag() -> None:
    assert is_rocm_image("ollama/ollama:0.32.15-rocm")
    assert is_rocm_image("ollama/ollama:rocm")
    assert is_rocm_image("ollama/ollama:0.32.15-rocm@sha256:" + "a" * 64)
    assert not is_rocm_image("ollama/ollama:0.32.15")
    assert not is_rocm_image("registry.rocm.example/ollama:0.32.15")


def test_every_amd_card_has_a_gfx_target_and_a_sourced_support_fact() -> None:
    assert len(AMD_CATALOG) >= 10
    for card in AMD_CATALOG.values():
        assert card.gfx_target.value.startswith("gfx")
        assert "docs/gpu.mdx" in card.ollama_rocm.source
    assert {False, True} == {card.ollama_rocm.value for card in AMD_CATALOG.values()}
    assert amd_info(None) is None and amd_info("nvidia-l4") is None
