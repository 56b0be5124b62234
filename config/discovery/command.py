"""The ``discover`` command: read the nodes (kubectl or a saved file), print the proposal, explain it on stderr.

``config`` holds no Kubernetes client: the nodes come from ``kubectl get nodes -o json``, run as a
subprocess with a timeout, or from that command's output saved to a file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from config.discovery.nodes import parse_nodes
from config.discovery.propose import propose
from config.discovery.render import render, todo_list

KUBECTL_TIMEOUT = 30.0


class DiscoveryError(Exception):
    """The nodes could not be read; the message says why and what to do."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's options."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--context", help="kubeconfig context to read (default: the current one)")
    source.add_argument("--nodes-json", metavar="FILE", help="the saved output of `kubectl get nodes -o json`")
    parser.add_argument("--router-image", help="the router image you push (an existing cluster needs one)")


def read_kubectl(context: str | None, timeout: float = KUBECTL_TIMEOUT) -> dict[str, Any]:
    """``kubectl get nodes -o json`` for ``context`` (or the current one), decoded."""
    command = ["kubectl", "get", "nodes", "-o", "json", *(["--context", context] if context else [])]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise DiscoveryError(
            "kubectl is not installed (or not on PATH): install it, or run `kubectl get nodes -o json > nodes.json` "
            "where it is and pass --nodes-json nodes.json"
        ) from None
    except subprocess.TimeoutExpired:
        raise DiscoveryError(
            f"`{' '.join(command)}` did not answer within {timeout:.0f}s: is the cluster reachable?"
        ) from None
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-1:] or [f"exit {result.returncode}"]
        raise DiscoveryError(f"`{' '.join(command)}` failed: {detail[0]}")
    return _decode(result.stdout, "kubectl's output")


def read_file(path: str) -> dict[str, Any]:
    """A saved ``kubectl get nodes -o json``."""
    try:
        return _decode(Path(path).read_text(encoding="utf-8"), path)
    except OSError as error:
        raise DiscoveryError(f"cannot read {path}: {error.strerror or error}") from None


def _decode(text: str, where: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError as error:
        raise DiscoveryError(f"{where} is not JSON ({error}): use `kubectl get nodes -o json`") from None
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise DiscoveryError(f"{where} is not a node list: use `kubectl get nodes -o json`")
    return document


def run(args: argparse.Namespace) -> int:
    """Print the proposal on stdout and what it means on stderr; exit 1 only when the nodes cannot be read."""
    try:
        if args.nodes_json:
            document, source = read_file(args.nodes_json), args.nodes_json
        else:
            document = read_kubectl(args.context)
            source = f"context {args.context}" if args.context else "the current kubeconfig context"
    except DiscoveryError as error:
        print(f"discover: {error}", file=sys.stderr)
        return 1
    nodes = parse_nodes(document)
    if not nodes:
        print("discover: the cluster has no nodes", file=sys.stderr)
        return 1
    proposal = propose(
        nodes, source=f"{len(nodes)} nodes of {source}", context=args.context, router_image=args.router_image
    )
    sys.stdout.write(render(proposal))
    for pool in proposal.pools:
        for fact in pool.facts:
            print(f"pool {pool.spec['name']}: {fact}", file=sys.stderr)
    for note in proposal.notes:
        print(f"note: {note}", file=sys.stderr)
    for item in todo_list(proposal):
        print(f"to choose: {item}", file=sys.stderr)
    return 0
