"""Refusals about the cluster that the program used to discover only while running."""

from __future__ import annotations

from config.stack import GkeClusterSpec
from tests.config.stacks import accepted, at, refused, stack_data


def test_gke_cpu_pool_without_a_machine_type_is_refused_by_check_config() -> None:
    data = stack_data()
    data["pools"][3].pop("machineType")
    (problem,) = at(refused(data), "pools[3].machineType")
    assert "a CPU pool needs one on GKE" in problem.message
    assert "machineType: n2-standard-8" in problem.fix


def test_gpu_pool_without_a_machine_type_takes_the_catalogs_default() -> None:
    data = stack_data()
    data["pools"][0].pop("machineType")
    assert accepted(data).pools[0].effective_machine_type == "n1-standard-8"


def test_a_window_too_short_for_gke_is_refused() -> None:
    data = stack_data()
    data["cluster"]["maintenanceWindow"] = {"days": ["SU"], "hours": 3}
    (problem,) = at(refused(data), "cluster.maintenanceWindow.hours")
    assert "shorter than the 4 hours" in problem.message
    data["cluster"]["maintenanceWindow"] = {"days": ["SU"], "hours": 8}
    (problem,) = at(refused(data), "cluster.maintenanceWindow")
    assert "allows 32 h in some 32 days; GKE needs 48 h" in problem.message


def test_the_default_window_and_a_weekday_night_are_accepted() -> None:
    data = stack_data()
    cluster = accepted(data).cluster
    assert isinstance(cluster, GkeClusterSpec) and cluster.maintenance_window.days == ["SA", "SU"]
    data["cluster"]["maintenanceWindow"] = {"days": ["MO", "TU", "WE", "TH", "FR"], "startUtc": "22:00", "hours": 4}
    accepted(data)


def test_an_unknown_weekday_names_its_path() -> None:
    data = stack_data()
    data["cluster"]["maintenanceWindow"] = {"days": ["SAT"]}
    (problem,) = at(refused(data), "cluster.maintenanceWindow.days[0]")
    assert "'SA'" in problem.message and "got 'SAT'" in problem.message


def test_existing_pools_selected_by_too_many_labels_are_refused_before_the_program_runs() -> None:
    data = stack_data("home")
    for pool in data["pools"]:
        pool["nodeSelector"] = {f"{pool['name']}/label-{i}": "yes" for i in range(5)}
    (problem,) = at(refused(data), "pools")
    assert "need more than 64 node-affinity terms to keep the router off their nodes" in problem.message
    assert "one label per pool" in problem.fix
    for pool in data["pools"]:
        pool["nodeSelector"] = {f"{pool['name']}/label-{i}": "yes" for i in range(2)}
    accepted(data)
