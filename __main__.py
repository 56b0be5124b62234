"""Pulumi's entry point (``Pulumi.yaml`` runs the repository root): declare the fleet of the current stack."""

from __future__ import annotations

from infra.program import build

build()
