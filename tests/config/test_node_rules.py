"""Pins the node's installer can honour, and spot pools whose replicas can come back: refusals and their fixes."""

from __future__ import annotations

from typing import Any

from tests.config.stacks import accepted, at, refused, stack_data


def _pool(data: dict[str, Any], name: str) -> dict[str, Any]:
    pool: dict[str, Any] = next(p for p in data["pools"] if p["name"] == name)
    return pool


def test_an_exact_build_on_cos_is_refused_with_the_branch_as_the_fix() -> None:
    data = stack_data()
    _pool(data, "t4")["driver"] = "570.124.06"
    (problem,) = at(refused(data), "pools[0].driver")
    assert "exact build" in problem.message and "COS" in problem.message
    assert 'driver: "R570"' in problem.fix and "UBUNTU_CONTAINERD" in problem.fix


def test_the_fix_works_either_way() -> None:
    data = stack_data()
    _pool(data, "t4").update(driver="570.124.06", nodeImage="UBUNTU_CONTAINERD")
    assert accepted(data).pools[0].driver == "570.124.06"


def test_a_branch_on_ubuntu_is_refused_with_an_exact_build_as_the_fix() -> None:
    data = stack_data()
    _pool(data, "l4")["driver"] = "R570"
    (problem,) = at(refused(data), "pools[1].driver")
    assert "is a branch" in problem.message
    assert '"570.124.06"' in problem.fix and "COS_CONTAINERD" in problem.fix


def test_existing_clusters_pin_exact_builds() -> None:
    data = stack_data("home")
    _pool(data, "l4")["driver"] = "R570"
    (problem,) = at(refused(data), "pools[2].driver")
    assert '"570.124.06"' in problem.fix and "COS" not in problem.fix
    _pool(data, "l4")["driver"] = "R580"
    (problem,) = at(refused(data), "pools[2].driver")
    assert "exact R580 build" in problem.fix


def test_a_branch_is_still_checked_against_the_gpu_and_the_image() -> None:
    data = stack_data()
    _pool(data, "t4")["driver"] = "R470"
    (problem,) = at(refused(data), "pools[0].driver")
    assert "R550+" in problem.message


def test_a_spot_pool_over_two_zones_with_its_own_disks_is_refused() -> None:
    data = stack_data()
    _pool(data, "t4")["zones"] = ["us-central1-a", "us-central1-b"]
    (problem,) = at(refused(data), "pools[0].zones")
    assert "spot" in problem.message and "zone of its disk" in problem.message
    assert "zones: [us-central1-a]" in problem.fix and "spot: false" in problem.fix


def test_spot_over_zones_is_fine_without_per_replica_disks_and_without_spot() -> None:
    data = stack_data()
    _pool(data, "t4")["zones"] = ["us-central1-a", "us-central1-b"]
    _pool(data, "t4")["spot"] = False
    accepted(data)
    data = stack_data()
    _pool(data, "t4")["zones"] = ["us-central1-a", "us-central1-b"]
    _pool(data, "t4")["ollama"].update(existingClaim="models", accessMode="ReadWriteMany")
    accepted(data)
