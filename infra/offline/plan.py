"""``python -m infra.offline.plan --stack dev --out build/plan/dev``: everything ``pulumi up`` would create, offline.

Runs the real program under the mocks with the stack file's config and writes ``resources.json``,
``kubernetes.yaml``, ``model-map.json`` and ``summary.md``. Exit 1 (and every problem, no traceback) on an
invalid stack or on any manifest that Kubernetes' own schema for the stack's minor version rejects: the
minor the stack sets, else its release channel's default as recorded in :mod:`infra.gcp.gke_versions`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kubernetes_validate
import pulumi
import yaml

from config.derive import derive_model_map
from config.errors import ConfigError
from config.loading import from_pulumi_config, load_stack_file
from infra.gcp.gke_versions import manifest_minor
from infra.k8s import custom_resources
from infra.offline.mocks import Run, run_program, stack_file_config
from infra.offline.render import manifests, resource_record
from infra.offline.summary import summary_markdown
from infra.program import build


@dataclass(slots=True)
class Plan:
    """What one plan run wrote, and the manifests Kubernetes' schema refused."""

    run: Run
    documents: list[dict[str, Any]]
    problems: list[str] = field(default_factory=list)


def validate(documents: Iterable[dict[str, Any]], kubernetes_version: str) -> list[str]:
    """One line per manifest the strict schema of ``kubernetes_version`` (``1.33``) rejects.

    GKE's custom kinds have no schema in kubernetes-validate; exactly those listed in
    :data:`infra.k8s.custom_resources.SCHEMAS` are checked against their own strict schema instead.
    """
    problems: list[str] = []
    for document in documents:
        where = f"{document['kind']} {document['metadata'].get('namespace', '')}/{document['metadata']['name']}"
        custom = custom_resources.problems(document)
        if custom is not None:
            problems += [f"{where}: {problem}" for problem in custom]
            continue
        try:
            kubernetes_validate.validate(document, f"{kubernetes_version}.0", strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.absolute_path)
            problems.append(f"{where}: {path}: {error.message}")
        except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.utils.VersionNotSupportedError) as error:
            problems.append(f"{where}: {error.message}")
    return problems


class _ManifestDumper(yaml.SafeDumper):
    """Multi-line strings (the model map, scripts) as literal blocks, so the manifests read like hand-written ones."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ManifestDumper.add_representer(str, _str)


def _dump_yaml(documents: list[dict[str, Any]]) -> str:
    return yaml.dump_all(documents, Dumper=_ManifestDumper, sort_keys=False, default_flow_style=False, width=1000)


def write_plan(
    name: str,
    out: Path,
    *,
    root: Path = Path("."),
    extra_config: Mapping[str, str] | None = None,
    extra_secret_keys: Iterable[str] = (),
) -> Plan:
    """Run the program for ``Pulumi.<name>.yaml`` (plus ``extra_config``) and write the plan into ``out``.

    Raises :class:`ConfigError` or :class:`pulumi.RunError` when the stack is refused.
    """
    config, secret_keys = stack_file_config(root / f"Pulumi.{name}.yaml")
    config |= dict(extra_config or {})
    secret_keys += list(extra_secret_keys)
    stack = from_pulumi_config(config, source=f"stack {name!r}")
    run = run_program(build, config, stack=name, secret_keys=secret_keys)
    documents = manifests(run.resources)
    out.mkdir(parents=True, exist_ok=True)
    records = [resource_record(r) for r in run.resources]
    (out / "resources.json").write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    (out / "kubernetes.yaml").write_text(_dump_yaml(documents), encoding="utf-8")
    (out / "model-map.json").write_text(derive_model_map(stack).to_json(), encoding="utf-8")
    (out / "summary.md").write_text(summary_markdown(stack, run, name), encoding="utf-8")
    return Plan(run, documents, validate(documents, manifest_minor(stack)))


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m infra.offline.plan", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="the stack: reads Pulumi.<stack>.yaml")
    parser.add_argument("--out", type=Path, help="output directory (default build/plan/<stack>)")
    args = parser.parse_args(argv)
    out = args.out or Path("build/plan") / args.stack
    try:
        load_stack_file(Path(f"Pulumi.{args.stack}.yaml"))
        plan = write_plan(args.stack, out)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 1
    except pulumi.RunError as error:
        print(error, file=sys.stderr)
        return 1
    if plan.problems:
        print(f"{len(plan.problems)} manifests are invalid:", file=sys.stderr)
        print("\n".join(f"  - {problem}" for problem in plan.problems), file=sys.stderr)
        return 1
    print(
        f"wrote {out}: {len(plan.run.resources)} resources, {len(plan.documents)} Kubernetes manifests "
        "(valid under the strict schema), model-map.json, summary.md"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
