# Named tasks, run the same way by people and by CI (.ci/run).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev assets browser lint format typecheck pytest demo clean

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

VENDOR := src/ketaguard/web/static/vendor

## assets: the pages' browser libraries from the npm registry (frontend/package-lock.json), copied
## into $(VENDOR) where ketaguard serves them; re-run only when the lock file or the list changes
assets: $(VENDOR)/htmx.min.js

# Any file the copy writes would do as the target: it is newer than its inputs once copied.
$(VENDOR)/htmx.min.js: frontend/package.json frontend/package-lock.json src/ketaguard/web/assets.py scripts/build-assets
	@command -v npm >/dev/null || { echo "make assets needs Node.js with npm (https://nodejs.org)" >&2; exit 1; }
	cd frontend && npm ci --no-audit --no-fund
	$(PYTHON) scripts/build-assets

## browser: Chromium for the browser tests in tests/web (apt-get install when it is missing)
browser:
	scripts/ensure-chromium

## run: install, build the demo database if it is not there yet, serve on http://$(HOST):$(PORT)
run: install assets
	$(BIN)/ketaguard demo
	$(BIN)/ketaguard serve --host $(HOST) --port $(PORT)

## test: install with dev extras, then lint, format check, type check and the test suite
test: install-dev assets browser lint typecheck pytest

lint: install-dev
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

format: install-dev
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

typecheck: install-dev
	$(BIN)/mypy --strict src/ketaguard

pytest: install-dev assets browser
	$(BIN)/pytest

demo: install
	$(BIN)/ketaguard demo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache frontend/node_modules $(VENDOR)
