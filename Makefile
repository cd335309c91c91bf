# The README's commands. Every target creates .venv when it is missing and is safe to re-run.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install test demo lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the package metadata changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian's chromium drives the browser test (playwright from PyPI, no browser download).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
	  || echo "warning: could not install chromium; the browser test will be skipped"; \
	else echo "warning: chromium missing and not root; the browser test will be skipped"; fi

install: $(STAMP)

test: install $(CHROMIUM)
	$(BIN)/python -m pytest -q -n auto --dist loadfile $(PYTEST_ARGS)

demo: install
	$(BIN)/xtenant demo

lint: install
	$(BIN)/ruff format --check provisioning tests benchmarks
	$(BIN)/ruff check provisioning tests benchmarks
	$(BIN)/mypy provisioning --exclude 'provisioning/sandbox/'

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .azcli-venv .pytest_cache .mypy_cache .ruff_cache dist build .sandbox .sandbox-demo test-artifacts
