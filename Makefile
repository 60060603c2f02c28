# valuereview: `make reports` renders the quarter, `make test` runs the suite.
# Both create the virtualenv (and the demo warehouse) when missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DB     := data/warehouse.duckdb
ARGS   ?=

.PHONY: reports test test-fast lint bench bench-scale demo clean venv i18n

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,dask]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/valuereview demo-data

# The demo warehouse is built only when no warehouse is configured and none exists yet.
reports: $(STAMP)
	@if [ -z "$$VALUEREVIEW_DB" ] && [ ! -f $(DB) ]; then $(BIN)/valuereview demo-data; fi
	$(BIN)/valuereview render $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not postgres" $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check valuelib tests

clean:
	rm -rf output .pytest_cache

# Messages of valuelib, the notebooks and the templates (babel.cfg) → valuelib/locale/*.pot,
# merged into every catalog and compiled to .mo; fails naming the language and the message
# when any catalog lacks a translation (fuzzy counts as missing). See README, "Languages".
i18n: $(STAMP)
	$(BIN)/python -m valuelib.i18n_tools

# Benchmark protocol of ../shared/METRICS.md: naive papermill loop (A), in-process floor (B),
# valuereview cold (C) and no change (D) on 40 demo accounts; appends to benchmarks/results.md.
# Options pass through: make bench ARGS="--naive-sample 10 --keep" (see benchmarks/bench.py).
bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench --accounts 40 $(ARGS)

# 1,000 demo accounts end to end, C and D only (A and B would take hours); then the portfolio
# review of 10,000 billing-only accounts with 72 months of ARR each (phase P).
bench-scale: $(STAMP)
	$(BIN)/python -m benchmarks.bench --accounts 1000 --scale $(ARGS)
	$(BIN)/python -m benchmarks.bench --portfolio-accounts 10000 $(ARGS)
