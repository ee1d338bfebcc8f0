# Quick start: `make demo` and `make test` on a fresh clone; nothing else is needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint fmt clean bench fidelity calibration tensorboard

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

lint: install
	$(VENV)/bin/ruff check bgenv agents tests examples
	$(VENV)/bin/ruff format --check bgenv agents tests examples

fmt: install
	$(VENV)/bin/ruff format bgenv agents tests examples
	$(VENV)/bin/ruff check --fix bgenv agents tests examples

clean:
	rm -rf $(VENV) .pytest_cache bgenv/core/__pycache__ build dist *.egg-info
