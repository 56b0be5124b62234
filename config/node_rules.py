"""Rules about what a pool's nodes boot with and where they run: driver pins the installer can honour, spot pools.

They are part of :func:`config.rules.check_stack`; each yields :class:`~config.errors.Problem` objects
with the config path, the bad value and the fix.
"""

from __future__ import annotations

from collections.abc import Iterator

from config.drivers import COS_IMAGE, COS_INSTALLER_SOURCE, UBUNTU_PINS, branch, branch_pin, is_branch_pin
from config.errors import Problem
from config.stack import PoolSpec


def driver_pin_problems(pool: PoolSpec, at: str, *, gke: bool) -> Iterator[Problem]:
    """A pin the node's installer can honour: a branch on GKE's COS nodes, an exact build everywhere else.

    The COS installer installs only builds Google published for the node's COS image, and the image
    follows the GKE node version, so an exact COS pin may not exist on the node: the installer then
    fails on every restart and the pool never gets a driver (see :mod:`config.drivers`).
    """
    driver = pool.driver or ""
    cos = gke and pool.node_image == COS_IMAGE
    if cos and not is_branch_pin(driver):
        yield Problem(
            f"{at}.driver",
            f"{driver!r} is an exact build, which COS installs only if Google published it for the node's COS "
            f"image, and that image is chosen by GKE ({COS_INSTALLER_SOURCE})",
            f'pin the branch instead: driver: "{branch_pin(driver)}" (the newest {branch_pin(driver)} build for the '
            f"node's image), or keep {driver} with nodeImage: UBUNTU_CONTAINERD",
        )
    if not cos and is_branch_pin(driver):
        where = (
            "an Ubuntu node's installer downloads one exact build" if gke else "an existing node's driver is one build"
        )
        yield Problem(
            f"{at}.driver",
            f"{driver!r} is a branch, but {where}",
            _exact_fix(driver) + (", or use nodeImage: COS_CONTAINERD to keep the branch" if gke else ""),
        )


def _exact_fix(driver: str) -> str:
    known = UBUNTU_PINS.get(branch(driver))
    if known is not None:
        return f'pin an exact build of that branch, e.g. driver: "{known}" (Google\'s Ubuntu pin for {driver})'
    return f"pin an exact {driver} build from NVIDIA's driver archive (https://www.nvidia.com/en-us/drivers/)"


def spot_zone_problems(pool: PoolSpec, at: str) -> Iterator[Problem]:
    """A spot pool's replica must be able to come back where its disk is.

    A replica's own volume is a zonal persistent disk: once created it binds the pod to that zone
    (https://cloud.google.com/kubernetes-engine/docs/concepts/persistent-volumes#pd-zones). Spot VMs are
    reclaimed whenever Compute Engine needs the capacity and come back only where capacity exists
    (https://cloud.google.com/compute/docs/instances/spot), so over several zones a preempted replica
    can wait indefinitely in a zone without spot capacity while the other zone has nodes to spare.
    """
    if not pool.spot or len(pool.zones) < 2 or pool.ollama.existing_claim is not None:
        return
    yield Problem(
        f"{at}.zones",
        f"a spot pool over {len(pool.zones)} zones strands a preempted replica in the zone of its disk "
        "when that zone has no spot capacity left",
        f"use one zone (zones: [{pool.zones[0]}]), or spot: false, or share one ReadWriteMany claim "
        "(ollama.existingClaim with accessMode: ReadWriteMany) so a replica can start in any zone",
    )
