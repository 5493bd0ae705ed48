# Two commands on a fresh machine with Python 3.11:
#   make train   set up what training needs, then train a Connect Four agent by self-play
#   make test    set that up plus the test tools, then run the test suite
# Both create .venv when missing and are quick once it is set up.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# torch is pinned and installed first: the project's `torch>=` lower bound is
# then already met, so pip never resolves a bare torch (gigabytes of CUDA wheels).
TORCH := torch==2.13.0
# What training and play need (the runtime dependencies), and on top of it the
# `dev` extra for the tests (pytest, hypothesis, and the peers they compare
# against: OpenSpiel, Ray).
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev

.PHONY: setup train test bench clean

setup: $(RUNTIME)

$(RUNTIME): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME)

$(DEV): $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(DEV)

# The main job: self-play training of Connect Four for MINUTES minutes (resumes runs/c4).
MINUTES ?= 120
train: $(RUNTIME)
	$(BIN)/selfplay train --game connect4 --run-dir runs/c4 --minutes $(MINUTES)

test: $(DEV)
	$(BIN)/python -m pytest -n 2 -q

bench: $(DEV)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python benchmarks/engine_speed.py

clean:
	rm -rf $(VENV) build *.egg-info
