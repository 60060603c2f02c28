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
