"""Run checkov over the rendered Kubernetes manifests of every committed stack.

    .venv/bin/python tools/checkov_plan.py [--plan-dir build/plan] [STACK ...]

Reads ``<plan-dir>/<stack>/kubernetes.yaml`` (written by ``make plan STACK=<stack>``) for every
``Pulumi.<stack>.yaml`` in the repository, or for the stacks named. The policy it enforces:

* zero failed checks;
* a check is skipped only by an annotation on the object that needs it, with its reason:
  ``metadata.annotations: {checkov.io/skip1: "CKV_K8S_8=<why this object cannot have it>"}``;
  no ``--skip-check``, ``--soft-fail``, ``--baseline`` or config file, ever;
* checkov really read the file: no parsing errors, at least one checked resource per object.

Checkov runs in its own virtualenv (``.venv-checkov``: it pins ``packaging<24``, which would downgrade
Pulumi here), offline (``--skip-download``), in an empty working and home directory and with an
environment cleared of checkov's settings (``CKV_SKIP_CHECK``, ``CKV_CHECK`` and the like), so that
nothing outside this command can loosen it. It prints one table of the skipped checks (checks, objects,
reason), each stack's counts and checkov's totals, then every finding. Exit status: 0 clean, 1 a finding,
2 cannot run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"
DEFAULT_PLAN_DIR = REPO / "build" / "plan"

CHECKOV_ARGS = ("--framework", "kubernetes", "--skip-download", "--compact", "--quiet", "--output", "json")
"""Every flag checkov gets besides the file: nothing here may switch a check off."""

SKIP_KEY_MARKERS = ("checkov.io/skip", "bridgecrew.io/skip", "cortex.io/skip")
"""Checkov treats an annotation whose key contains one of these as a skip (kubernetes_utils.py)."""

SKIP_VALUE = re.compile(r"^(?P<check>CKV2?_K8S_\d+)=(?P<reason>[^=]*)$")
"""``CHECK_ID=reason``: checkov splits the value on '=', so a second '=' would crash it."""

MIN_REASON_WORDS = 3


@dataclass(frozen=True)
class Skip:
    """One skip annotation: where it is, which check, and why."""

    resource: str
    key: str
    value: str

    @property
    def check(self) -> str:
        match = SKIP_VALUE.match(self.value)
        return match["check"] if match else self.value

    @property
    def reason(self) -> str:
        match = SKIP_VALUE.match(self.value)
        return match["reason"].strip() if match else ""


def shown(path: Path) -> str:
    """A path as the user typed it, relative to the working directory when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def committed_stacks(repo: Path = REPO) -> list[str]:
    """Stack names of every ``Pulumi.<stack>.yaml`` at the repository root."""
    return sorted(path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in repo.glob("Pulumi.*.yaml"))


def load_objects(manifest: Path) -> list[dict[str, Any]]:
    """Every Kubernetes object of a multi-document manifest (empty documents dropped)."""
    with manifest.open(encoding="utf-8") as stream:
        documents = list(yaml.safe_load_all(stream))
    objects = [doc for doc in documents if doc is not None]
    for index, doc in enumerate(objects):
        if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
            raise ValueError(f"document {index + 1} is not a Kubernetes object (no kind/apiVersion)")
    return objects


def resource_name(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    name = metadata.get("name", "?") if isinstance(metadata, dict) else "?"
    namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
    return f"{obj.get('kind', '?')}/{namespace + '/' if namespace else ''}{name}"


def skips(obj: Mapping[str, Any]) -> Iterator[Skip]:
    """Every checkov skip annotation anywhere in the object (its own metadata, a pod template's, ...)."""
    resource = resource_name(obj)

    def walk(node: object) -> Iterator[Skip]:
        if isinstance(node, dict):
            annotations = node.get("annotations")
            if isinstance(annotations, dict):
                for key, value in annotations.items():
                    if any(marker in str(key) for marker in SKIP_KEY_MARKERS):
                        yield Skip(resource, str(key), "" if value is None else str(value))
            for child in node.values():
                yield from walk(child)
        elif isinstance(node, list):
            for child in node:
                yield from walk(child)

    return walk(obj)


def skip_problems(objects: Sequence[Mapping[str, Any]]) -> list[str]:
    """A message for every skip annotation that lacks a check id, a reason, or is not on the object itself."""
    problems = []
    for obj in objects:
        own = (obj.get("metadata") or {}).get("annotations") or {}
        for skip in skips(obj):
            where = f"{skip.resource}: annotation {skip.key}: {skip.value!r}"
            if not SKIP_VALUE.match(skip.value):
                problems.append(f"{where}: write it as CKV_K8S_<n>=<reason> (one '=', no '=' in the reason)")
            elif len(skip.reason.split()) < MIN_REASON_WORDS:
                problems.append(f"{where}: give the reason this object cannot pass {skip.check} (a few words)")
            if own.get(skip.key) != skip.value:
                problems.append(f"{where}: put it in the object's own metadata.annotations, not a nested one")
    return problems


def checkov_environment(home: Path) -> dict[str, str]:
    """A clean environment: no CKV_*/BC_*/PRISMA_* setting can reach checkov, and its home is empty."""
    keep = {name: os.environ[name] for name in ("PATH", "LANG", "LC_ALL", "TMPDIR") if name in os.environ}
    return {**keep, "HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1", "LOG_LEVEL": "WARNING"}


def run_checkov(checkov: Path, manifests: Sequence[Path]) -> tuple[int, dict[str, Any], str]:
    """One checkov run over all manifests, from an empty directory: exit status, JSON report, stderr."""
    files = [arg for manifest in manifests for arg in ("--file", str(manifest.resolve()))]
    with tempfile.TemporaryDirectory(prefix="checkov-") as scratch:
        completed = subprocess.run(
            [str(checkov), *files, *CHECKOV_ARGS],
            cwd=scratch,
            env=checkov_environment(Path(scratch)),
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
    try:
        report = json.loads(completed.stdout)
    except ValueError:
        report = None
    if isinstance(report, list):  # one entry per framework; only kubernetes runs
        report = next((r for r in report if isinstance(r, dict) and r.get("check_type") == "kubernetes"), None)
    if isinstance(report, dict) and "summary" not in report and "passed" in report:
        report = {"results": {"failed_checks": []}, "summary": report}  # nothing parsed: a bare summary
    if not isinstance(report, dict) or not isinstance(report.get("summary"), dict):
        raise RuntimeError(
            f"checkov exited {completed.returncode} without a JSON report:\n{completed.stdout}{completed.stderr}"
        )
    return completed.returncode, report, completed.stderr


@dataclass
class Stack:
    """One stack's manifest, its objects once read, and what is wrong with it."""

    name: str
    path: Path
    objects: list[dict[str, Any]]
    findings: list[str]


def read_stack(name: str, path: Path) -> Stack:
    try:
        objects = load_objects(path)
    except (OSError, yaml.YAMLError, ValueError) as error:
        return Stack(name, path, [], [f"{shown(path)}: cannot read it: {error}"])
    if not objects:
        return Stack(name, path, [], [f"{shown(path)}: holds no Kubernetes object"])
    return Stack(name, path, objects, skip_problems(objects))


def _check_number(text: str) -> int:
    """The number of the first check id in ``text`` (``CKV_K8S_16,20`` -> 16), for ordering rows."""
    match = re.search(r"CKV2?_K8S_(\d+)", text)
    return int(match[1]) if match else -1


def _names(names: Sequence[str]) -> str:
    """``ollama-{a100,l4,t4}``: several names by their common prefix, up to a '-'."""
    if len(names) == 1:
        return names[0]
    common = os.path.commonprefix(list(names))
    prefix = common[: common.rfind("-") + 1]
    return f"{prefix}{{{','.join(name.removeprefix(prefix) for name in names)}}}"


def _check_ids(checks: Sequence[str]) -> str:
    """``CKV_K8S_16,20,22``: the ids of one row, in number order, the common prefix written once."""
    ordered = sorted(checks, key=_check_number)
    head = ordered[0].rpartition("_")[0] + "_"
    if all(SKIP_VALUE.match(f"{check}=x") and check.startswith(head) for check in ordered):
        return head + ",".join(check.removeprefix(head) for check in ordered)
    return ",".join(ordered)


def skip_table(stacks: Sequence[Stack]) -> list[str]:
    """One aligned table of the skipped checks: a row per reason and kind of object, the checks it skips.

    With several stacks a column says which stacks the row's objects are in.
    """
    where: dict[tuple[str, str, str], set[str]] = {}  # (check, reason, resource) -> stacks
    for stack in stacks:
        for skip in (skip for obj in stack.objects for skip in skips(obj)):
            where.setdefault((skip.check, skip.reason, skip.resource), set()).add(stack.name)
    if not where:
        return ["checkov: no check is skipped"]
    names: dict[tuple[str, str, str, str], list[str]] = {}  # (check, reason, kind/namespace, stacks) -> names
    for (check, reason, resource), stack_names in sorted(where.items()):
        kind, _, name = resource.rpartition("/")
        names.setdefault((check, reason, kind, ", ".join(sorted(stack_names))), []).append(name)
    rows: dict[tuple[str, str, str, str], list[str]] = {}  # (reason, kind/namespace, stacks, objects) -> checks
    for (check, reason, kind, in_stacks), group in names.items():
        objects = f"{kind.split('/')[0]} {_names(group)}"
        rows.setdefault((reason, kind, in_stacks, objects), []).append(check)
    several = len(stacks) > 1
    table = [("skipped checks", "objects", *(("stacks",) if several else ()), "reason")]
    for (reason, _, in_stacks, objects), checks in rows.items():
        table.append((_check_ids(checks), objects, *((in_stacks,) if several else ()), reason))
    table[1:] = sorted(table[1:], key=lambda row: (_check_number(row[0]), row))
    widths = [max(len(row[column]) for row in table) for column in range(len(table[0]) - 1)]
    lines = [
        "  ".join([*(f"{cell:<{width}}" for cell, width in zip(row, widths, strict=False)), row[-1]]) for row in table
    ]
    return [lines[0], "-" * max(len(line) for line in lines), *lines[1:]]


def check_stacks(stacks: Sequence[Stack], checkov: Path) -> list[str]:
    """Run checkov once over every readable manifest; every finding, per stack and overall."""
    readable = [stack for stack in stacks if stack.objects]
    findings: list[str] = []
    totals = ""
    if readable:
        status, report, stderr = run_checkov(checkov, [stack.path for stack in readable])
        summary: dict[str, Any] = report["summary"]
        failed = report.get("results", {}).get("failed_checks", [])
        by_file = {stack.path.resolve(): stack for stack in readable}
        for check in failed:
            stack = by_file.get(Path(str(check.get("file_abs_path", ""))).resolve())
            where = shown(stack.path) if stack else check.get("file_path", "?")
            lines = check.get("file_line_range") or ["?", "?"]
            message = (
                f"{where}:{lines[0]}-{lines[1]}: {check.get('check_id')} {check.get('check_name')}"
                f" [{check.get('resource')}]"
            )
            (stack.findings if stack else findings).append(message)
        objects = sum(len(stack.objects) for stack in readable)
        if summary.get("parsing_errors", 0):
            findings.append(f"checkov could not parse {summary['parsing_errors']} file(s)")
        if summary.get("resource_count", 0) < objects:
            findings.append(f"checkov checked {summary.get('resource_count', 0)} resource(s) of {objects} object(s)")
        if status not in (0, 1) or (status == 1 and not failed):
            findings.append(f"checkov exited {status}:\n{stderr.strip()}")
        elif status == 0 and failed:
            findings.append("checkov reported failures but exited 0")
        totals = (
            f"checkov {summary.get('checkov_version', '?')}: {summary.get('passed', 0)} passed,"
            f" {summary.get('failed', 0)} failed, {summary.get('skipped', 0)} skipped by annotation,"
            f" in {summary.get('resource_count', 0)} resources of {len(readable)} stack(s)"
        )
    print("\n".join(skip_table(stacks)), end="\n\n")
    for stack in stacks:
        annotated = [skip for obj in stack.objects for skip in skips(obj)]
        failures = sum(1 for finding in stack.findings if re.search(r":\d+-\d+: CKV", finding))
        print(f"checkov {stack.name}: {len(stack.objects)} objects, {failures} failed, {len(annotated)} skipped")
    if totals:
        print(totals)
    return [finding for stack in stacks for finding in stack.findings] + findings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stacks", nargs="*", metavar="STACK", help="default: every committed Pulumi.<stack>.yaml")
    parser.add_argument("--plan-dir", type=Path, default=DEFAULT_PLAN_DIR, help="where make plan wrote the stacks")
    parser.add_argument("--checkov", type=Path, default=DEFAULT_CHECKOV, help="the checkov executable")
    args = parser.parse_args(argv)

    names: list[str] = args.stacks or committed_stacks()
    if not names:
        print(f"checkov: no Pulumi.<stack>.yaml in {REPO.name}/", file=sys.stderr)
        return 2
    if not args.checkov.is_file():
        print(
            f"checkov: {shown(args.checkov)} is missing: python3 -m venv .venv-checkov &&"
            " .venv-checkov/bin/pip install -r requirements-checkov.txt",
            file=sys.stderr,
        )
        return 2
    missing = [name for name in names if not (args.plan_dir / name / "kubernetes.yaml").is_file()]
    for name in missing:
        print(
            f"checkov: {shown(args.plan_dir / name / 'kubernetes.yaml')} is missing: make plan STACK={name}",
            file=sys.stderr,
        )
    if missing:
        return 2

    stacks = [read_stack(name, args.plan_dir / name / "kubernetes.yaml") for name in names]
    try:
        findings = check_stacks(stacks, args.checkov)
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as error:
        findings = [str(error)]
    for finding in findings:
        print(finding)
    if findings:
        print(f"checkov: {len(findings)} finding(s); fix the object, or annotate it with its reason", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
