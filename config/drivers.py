"""Which NVIDIA driver a GPU and an Ollama image need: the facts behind the driver refusals.

Official ``ollama/ollama`` builds need driver >= 550, and >= 570 below compute capability 7.0
(ollama ``docs/gpu.mdx``, enforced in ``discover/cuda_compat.go``); they do not run below compute
capability 5.0 at all. Any other image must declare its own floor as ``ollama.minDriver``.

A pool pins its driver in one of two forms:

* an exact build, ``570.124.06``: Ubuntu nodes (the installer downloads exactly that ``.run`` from
  NVIDIA) and existing clusters (the host's driver is checked against it);
* a branch, ``R570``: COS nodes. The COS installer can only install builds that Google compiled and
  signed for the node's COS image; it takes ``--version`` unset (the image's default build),
  ``latest``, or one exact build, which must be among the builds published for that image, or it fails
  with "The GPU driver is not available for the COS version"
  (cos.googlesource.com/cos/tools ``src/cmd/cos_gpu_installer/internal/commands/install.go``,
  ``getDriverVersion`` and ``installDriver``). Which builds a COS image has is known only on the node,
  and GKE picks the COS image with the node version, so no exact pin can be guaranteed ahead of time.
  The installer's ``list`` subcommand prints the builds published for the running image (same
  repository, ``commands/list.go``), so the install step picks the newest build of the pinned branch
  from that list, and every check accepts any build of that branch.
"""

from __future__ import annotations

import re

OFFICIAL_MIN_DRIVER = 550
OFFICIAL_MIN_DRIVER_OLD_GPU = 570
OLD_GPU_BELOW = (7, 0)
OFFICIAL_MIN_CAPABILITY = (5, 0)

_OFFICIAL = re.compile(
    r"^(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)/)?ollama/ollama(?::[^@]+)?(?:@.+)?$"
)


COS_IMAGE = "COS_CONTAINERD"
BRANCH_PREFIX = "R"
COS_INSTALLER_SOURCE = "cos.googlesource.com/cos/tools src/cmd/cos_gpu_installer/internal/commands/install.go"
"""Where the COS installer's ``--version`` semantics are defined (default, ``latest``, or one published build)."""


UBUNTU_PINS = {525: "525.105.17", 535: "535.161.07", 550: "550.90.12", 570: "570.124.06"}
"""The exact build Google's Ubuntu installer pins for each branch: ``NVIDIA_DRIVER_VERSION`` in
GoogleCloudPlatform/container-engine-accelerators
``nvidia-driver-installer/ubuntu/daemonset-preloaded-R<branch>.yaml``."""


def is_branch_pin(pin: str) -> bool:
    """Whether ``pin`` names a driver branch (``R570``) rather than one exact build (``570.124.06``)."""
    return pin.startswith(BRANCH_PREFIX)


def version_tuple(version: str) -> tuple[int, ...]:
    """``570.124.06`` → ``(570, 124, 6)`` for ordering; a branch ``R570`` → ``(570,)``."""
    if is_branch_pin(version):
        return (int(version[len(BRANCH_PREFIX) :]),)
    return tuple(int(part) for part in version.split("."))


def branch(version: str) -> int:
    """The driver branch (``R570`` → 570) of a full version or of a branch pin."""
    return version_tuple(version)[0]


def branch_pin(version: str) -> str:
    """The branch pin that covers ``version``: ``570.124.06`` → ``R570``."""
    return f"{BRANCH_PREFIX}{branch(version)}"


def is_official_image(image: str) -> bool:
    """Whether ``image`` is an official Ollama build (any tag or digest of ``ollama/ollama``)."""
    return bool(_OFFICIAL.match(image))


def official_min_driver(capability: tuple[int, int]) -> int:
    """The oldest driver branch an official Ollama build accepts on a GPU of this compute capability."""
    return OFFICIAL_MIN_DRIVER_OLD_GPU if capability < OLD_GPU_BELOW else OFFICIAL_MIN_DRIVER
