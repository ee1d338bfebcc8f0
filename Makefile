# Quick start: `make demo` and `make test` on a fresh clone; nothing else is needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint fmt clean bench fidelity calibration tensorboard docs docs-serve

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/bgenv demo

tensorboard: install
	$(VENV)/bin/tensorboard --logdir runs

bench: install
	$(VENV)/bin/bgenv bench

fidelity: install
	$(VENV)/bin/bgenv fidelity

calibration: install
	$(VENV)/bin/bgenv calibration

test: install
	$(PY) -m pytest -n 2 -q

# The documentation site (mkdocs.yml, docs/) into site/; --strict: a broken link, a page missing
# from the navigation or a stale generated page fails the build. No network needed.
docs: install
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

docs-serve: install
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs serve

lint: install
	$(VENV)/bin/ruff check bgenv agents tests examples notebooks mkdocs_hooks.py
	$(VENV)/bin/ruff format --check bgenv agents tests examples notebooks mkdocs_hooks.py

fmt: install
	$(VENV)/bin/ruff format bgenv agents tests examples notebooks mkdocs_hooks.py
	$(VENV)/bin/ruff check --fix bgenv agents tests examples notebooks mkdocs_hooks.py

clean:
	rm -rf $(VENV) .pytest_cache bgenv/core/__pycache__ build dist site *.egg-info
