"""``python -m config``: check a stack file, or write the stack JSON Schema.

python -m config check Pulumi.dev.yaml      one-screen summary, or every problem (exit 1)
python -m config schema [--check] FILE       write the schema, or fail if FILE is stale
python -m config model-map Pulumi.dev.yaml   print the derived model map (what the router reads)
python -m config docs [--check] FILE         write the stack config reference, or fail if FILE is stale
python -m config discover [--context C]      propose a stack file from an existing cluster's nodes
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from config.derive import derive_model_map
from config.discovery import command as discover
from config.errors import ConfigError
from config.gpu_catalog import catalog_markdown
from config.loading import load_stack_file
from config.reference import configuration_markdown
from config.schema import render_schema
from config.stack import StackConfig
from config.summary import summarize


def _with_stack(path: str, render: Callable[[StackConfig], str]) -> int:
    """Print ``render`` of the validated stack, or every problem on stderr (exit 1)."""
    try:
        stack = load_stack_file(path)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 1
    sys.stdout.write(render(stack))
    return 0


def _generated(path: str, text: str, check: bool) -> int:
    """Write a generated file, or with ``check`` fail when the committed one differs."""
    target = Path(path)
    if check:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            print(f"{path} is stale: run `make docs` and commit it", file=sys.stderr)
            return 1
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m config", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="validate a Pulumi.<stack>.yaml").add_argument("file")
    commands.add_parser("model-map", help="print the derived model map").add_argument("file")
    commands.add_parser("catalog", help="print the GPU catalog table")
    for name, what in (("schema", "the stack JSON Schema"), ("docs", "the stack config reference (Markdown)")):
        generated = commands.add_parser(name, help=f"write {what}")
        generated.add_argument("file")
        generated.add_argument("--check", action="store_true", help="fail if the file is stale instead")
    discover.add_arguments(commands.add_parser("discover", help="propose a stack file from a cluster's nodes"))
    args = parser.parse_args(argv)
    if args.command == "discover":
        return discover.run(args)
    if args.command == "check":
        return _with_stack(args.file, lambda stack: summarize(stack, args.file) + "\n")
    if args.command == "model-map":
        return _with_stack(args.file, lambda stack: derive_model_map(stack).to_json())
    if args.command == "catalog":
        sys.stdout.write(catalog_markdown())
        return 0
    if args.command == "docs":
        return _generated(args.file, configuration_markdown(), args.check)
    return _generated(args.file, render_schema(), args.check)
