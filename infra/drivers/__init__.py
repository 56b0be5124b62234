"""GPUs made usable on the nodes: the pinned NVIDIA driver DaemonSet of each GPU pool, and the device plugins.

Owns what runs in a pool's driver namespace or kube-system so that pods can ask for ``nvidia.com/gpu`` or
``amd.com/gpu``; nothing of the fleet's own workloads.
"""
