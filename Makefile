# `make demo` and `make test` each set up everything on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/convolib demo --out demo-output

# The benchmark suite (BENCHMARKS.md): peers from the bench extra, results in bench-output/.
$(VENV)/.bench-installed: $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $@

bench: $(VENV)/.bench-installed
	$(VENV)/bin/convolib bench --dask --out bench-output

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks examples conftest.py
	$(PY) -m ruff format --check src tests benchmarks examples conftest.py

test: lint
	$(PY) -m pytest -n 2 -q

clean:
	rm -rf $(VENV) demo-output .pytest_cache .ruff_cache
