"""The shell that decides whether a node's NVIDIA driver is the pool's pin, and the COS install step.

One check serves three places: before the installer (a different driver already loaded is an error, not
a reason to skip, which is what upstream's ``lsmod | grep nvidia`` does), after it, and in front of every
Ollama pod. It asks ``nvidia-smi`` when the container has it (the NVIDIA runtime injects it) and otherwise
reads the kernel module's own ``/proc/driver/nvidia/version``, which every container can see, so the check
needs no GPU allocation and no particular image.
"""

from __future__ import annotations

import pulumi_kubernetes as k8s

from infra.k8s.helpers import env_list, resources, restricted_security
from infra.k8s.images import pull_policy

NOBODY = 65534
CHECK_IMAGE = "busybox:1.37.0"
"""Small, with ``sh`` and ``awk``: all the check needs when it reads ``/proc``."""
VERIFY_IMAGE = "nvcr.io/nvidia/cuda:12.8.1-base-ubuntu22.04"
"""Existing clusters: a CUDA base image, so the NVIDIA runtime injects ``nvidia-smi`` into it."""
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
COS_INSTALLER_IMAGE = "cos-nvidia-installer:fixed"
"""Preloaded on GKE COS nodes (pull policy Never), per container-engine-accelerators' preloaded DaemonSet."""
UBUNTU_INSTALLER_IMAGE = "gke-nvidia-installer:fixed"
"""Preloaded on GKE Ubuntu nodes; installs ``NVIDIA_DRIVER_VERSION``."""
VERSION_FILE = "/proc/driver/nvidia/version"

DRIVER_CHECK = r"""set -eu
want="${PINNED_DRIVER:?PINNED_DRIVER is not set}"
file="${DRIVER_VERSION_FILE:-/proc/driver/nvidia/version}"
loaded=""
if command -v nvidia-smi >/dev/null 2>&1; then
  loaded="$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null \
    | head -n 1 | tr -d ' ')" || loaded=""
fi
case "$loaded" in ""|*[!0-9.]*) loaded="" ;; esac
if [ -z "$loaded" ] && [ -r "$file" ]; then
  loaded="$(awk '/NVRM version/ {
    for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+(\.[0-9]+)?$/) { print $i; exit }
  }' "$file")"
fi
if [ -z "$loaded" ]; then
  if [ "${ALLOW_NO_DRIVER:-0}" = 1 ]; then
    echo "driver-check: no NVIDIA driver loaded yet; $want will be installed"
    exit 0
  fi
  echo "driver-check: FAIL: no NVIDIA driver is loaded on this node; the pool is pinned to $want" >&2
  exit 1
fi
case "$want" in
  R*) matches="$([ "${loaded%%.*}" = "${want#R}" ] && echo yes || echo no)" ;;
  *) matches="$([ "$loaded" = "$want" ] && echo yes || echo no)" ;;
esac
if [ "$matches" != yes ]; then
  echo "driver-check: FAIL: this node runs NVIDIA driver $loaded, the pool is pinned to $want" >&2
  echo "driver-check: replace the node (or reinstall the pinned driver on it) so it boots with $want" >&2
  exit 1
fi
echo "driver-check: OK: NVIDIA driver $loaded is the pin $want"
"""


def cos_install_script(pin: str) -> str:
    """Install the newest build of branch ``pin`` (``R570``) published for this node's COS image.

    ``cos-gpu-installer list`` prints one published build per line, the default one marked
    ``[default]`` (cos.googlesource.com/cos/tools ``src/cmd/cos_gpu_installer/internal/commands/list.go``);
    ``install --version=<build>`` installs one of them. A branch with no build for this image fails here
    with the builds that exist, instead of looping on a download that cannot succeed.
    """
    major = pin.removeprefix("R")
    return f"""set -eu
if [ -r {VERSION_FILE} ] && grep -Eq " {major}\\.[0-9.]+ " {VERSION_FILE}; then
  echo "driver-installer: an NVIDIA {pin} driver is already loaded"
  exit 0
fi
published="$(/cos-gpu-installer list | awk '{{print $1}}')"
build="$(printf '%s\\n' "$published" | grep -E '^{major}\\.[0-9.]+$' | sort -t. -k2,2n -k3,3n | tail -n 1)"
if [ -z "$build" ]; then
  echo "driver-installer: FAIL: no {pin} build is published for this node's COS image; it has:" >&2
  printf '%s\\n' "$published" >&2
  exit 1
fi
echo "driver-installer: installing NVIDIA $build, the newest {pin} build for this COS image"
/cos-gpu-installer install --version="$build"
chmod 755 /root/home/kubernetes/bin/nvidia
"""


def driver_check_container(
    name: str, pin: str, image: str, *, allow_missing: bool = False, nvidia: bool = False
) -> k8s.core.v1.ContainerArgs:
    """An unprivileged init container that exits non-zero unless the node's driver is ``pin``.

    ``allow_missing`` lets a node without any driver pass (before the installer runs); ``nvidia`` asks the
    NVIDIA runtime to inject ``nvidia-smi`` without allocating a GPU, and not to refuse an old driver for
    the image's CUDA version (the check is what decides about the driver).
    """
    env = {"PINNED_DRIVER": pin, "DRIVER_VERSION_FILE": VERSION_FILE}
    if allow_missing:
        env["ALLOW_NO_DRIVER"] = "1"
    if nvidia:
        env |= {"NVIDIA_VISIBLE_DEVICES": "all", "NVIDIA_DRIVER_CAPABILITIES": "utility", "NVIDIA_DISABLE_REQUIRE": "1"}
    return k8s.core.v1.ContainerArgs(
        name=name,
        image=image,
        image_pull_policy=pull_policy(image),
        command=["sh", "-c", DRIVER_CHECK],
        env=env_list(env),
        security_context=restricted_security(user=NOBODY),
        resources=resources("10m", "16Mi", cpu_limit="100m", memory_limit="64Mi"),
    )
