#!/usr/bin/env bash
# The linters that need no plan: hadolint on the router's Dockerfile, actionlint and shellcheck on the
# GitHub workflows, shellcheck on the repository's shell scripts. Runs them all, then fails if any failed.
# tests/policy runs the same checks under pytest; this is the one-command version for a terminal.
#
#   tools/lint-policy.sh          (needs .venv from requirements.txt and node_modules from `npm ci`)
set -euo pipefail
cd "$(dirname "$0")/.."

venv_bin=.venv/bin
failed=()

run() {
    local name=$1
    shift
    echo "== ${name}"
    if ! "$@"; then
        failed+=("$name")
    fi
}

if [[ -f router/Dockerfile ]]; then
    run hadolint "${venv_bin}/hadolint" router/Dockerfile
else
    echo "== hadolint: router/Dockerfile is missing" >&2
    failed+=(hadolint)
fi
run actionlint node tools/actionlint.mjs
run workflow-shellcheck "${venv_bin}/python" tools/workflow_shellcheck.py
run shellcheck "${venv_bin}/shellcheck" .ci/run tools/*.sh

if ((${#failed[@]} > 0)); then
    echo "lint-policy: failed: ${failed[*]}" >&2
    exit 1
fi
echo "lint-policy: clean"
