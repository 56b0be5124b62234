"""The generation of a GKE node pool: stable for the same boot identity, new for any change to it."""

from __future__ import annotations

from config.node_generation import gke_node_pool_name, node_generation
from tests.config.stacks import accepted, stack_data


def test_the_same_config_always_gives_the_same_node_pool_names() -> None:
    first = [gke_node_pool_name(p) for p in accepted(stack_data()).pools]
    second = [gke_node_pool_name(p) for p in accepted(stack_data()).pools]
    assert first == second and len(set(first)) == len(first)


def test_every_boot_input_changes_the_generation() -> None:
    base = accepted(stack_data()).pools[1]  # l4: Ubuntu, exact pin
    changes = {
        "driver": "580.95.05",
        "node_image": "COS_CONTAINERD",
        "machine_type": "g2-standard-12",
        "gpu": "nvidia-tesla-t4",
        "gpus_per_node": 2,
    }
    for field, value in changes.items():
        changed = base.model_copy(update={field: value})
        assert node_generation(changed) != node_generation(base), field


def test_the_longest_pool_name_still_fits_gke() -> None:
    base = accepted(stack_data()).pools[0]
    longest = base.model_copy(update={"name": "p" * 30})
    assert len(gke_node_pool_name(longest)) <= 40
