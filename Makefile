# Named tasks, run the same way by people and by CI (.ci/run).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev lint format typecheck pytest demo clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("ketaguard needs Python >= 3.11" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps re-run pip only when the project's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## run: install, build the demo database if it is not there yet, serve on http://$(HOST):$(PORT)
run: install
	$(BIN)/ketaguard demo
	$(BIN)/ketaguard serve --host $(HOST) --port $(PORT)

## test: install with dev extras, then lint, format check, type check and the test suite
test: install-dev lint typecheck pytest

lint: install-dev
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

format: install-dev
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

typecheck: install-dev
	$(BIN)/mypy --strict src/ketaguard

pytest: install-dev
	$(BIN)/pytest

demo: install
	$(BIN)/ketaguard demo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
