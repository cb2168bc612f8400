# Tastebase. `make run` starts the app with a demo board; `make test` runs every test;
# `make test-fast` is the quick lane (engine and request tests).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HASH := $(shell cat pyproject.toml | sha1sum | cut -c1-12)
# The app itself needs no torch; the tests also drive the OpenCLIP and diffusion code
# paths (extra "ml"), so `make test` installs those too.
RUN_STAMP := $(VENV)/.run-$(HASH)
TEST_STAMP := $(VENV)/.test-$(HASH)

.PHONY: run test test-fast lint bench install vendor clean-var

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(RUN_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e ".[dev,ml]"
	touch $(RUN_STAMP) $(TEST_STAMP)

install: $(RUN_STAMP) vendor

# PhotoSwipe and SortableJS from npm (package-lock.json) into static/vendor/; needs node + npm.
vendor:
	bin/vendor

run: $(RUN_STAMP) vendor
	bin/run

test: $(TEST_STAMP) vendor
	bin/test

test-fast: $(TEST_STAMP) vendor
	bin/test --fast

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(RUN_STAMP)
	$(PY) bench/uploads.py
	$(PY) bench/analyze_board.py
	$(PY) bench/analyze.py

clean-var:
	rm -rf var
