# valuereview: `make reports` renders the quarter, `make test` runs the suite.
# Both create the virtualenv (and the demo warehouse) when missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DB     := data/warehouse.duckdb
ARGS   ?=
# Exact versions (with hashes) of every dependency, extras included: `make lock` writes it from
# pyproject.toml's ranges, `make venv` installs it, `make test-latest` tests past it.
LOCK   := requirements/lock.txt
EXTRAS := dev,dask
comma  := ,
# uv resolves the lock: one file for every platform and Python >= 3.11, in seconds. Pinned, so
# the same pyproject.toml and lock give the same output on every machine.
UV_VERSION := 0.13.9
UV     := $(VENV)/.uv-$(UV_VERSION)
LATEST := .venv-latest

.PHONY: reports test test-fast test-latest lint bench bench-scale demo clean venv i18n lock \
	lock-upgrade fonts digest digest-check

venv: $(STAMP)

# The locked set first (hashes checked), then the project alone; anything the lock does not
# list (left by an older lock) is removed.
$(STAMP): $(LOCK) pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps -e .
	$(BIN)/python requirements/envlock.py prune $(LOCK)
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@# An editable install is not byte-compiled, and with PYTHONDONTWRITEBYTECODE set every
	@# command would compile valuelib anew (a fifth of a no-change run); stale files are redone.
	$(BIN)/python -m compileall -q valuelib >/dev/null
	@touch $(STAMP)

$(UV):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q 'uv==$(UV_VERSION)'
	@touch $(UV)

# Keeps every pin that still satisfies pyproject.toml and resolves only what changed (an added
# or removed dependency, a new range); `make lock-upgrade` moves every pin to the newest allowed,
# `make lock LOCK_ARGS="--upgrade-package sqlalchemy"` one package.
LOCK_ARGS ?=
lock: $(UV)
	@if grep -qs '^<<<<<<<' $(LOCK); then echo "$(LOCK) has merge conflict markers: take one" \
		"side (git checkout --theirs $(LOCK)), then run make lock again" >&2; exit 1; fi
	@mkdir -p $(dir $(LOCK))
	$(BIN)/uv pip compile pyproject.toml $(patsubst %,--extra %,$(subst $(comma), ,$(EXTRAS))) \
		--universal --python-version 3.11 --generate-hashes --no-config --quiet \
		--custom-compile-command 'make lock' --output-file $(LOCK) $(LOCK_ARGS)

lock-upgrade:
	$(MAKE) lock LOCK_ARGS=--upgrade

# The newest versions pyproject.toml allows, in a separate virtualenv made anew each time: the
# next upstream change shows here before users see it. Prints what differs from the lock.
test-latest:
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install -q --upgrade pip
	$(LATEST)/bin/python -m pip install -q -e '.[$(EXTRAS)]'
	$(LATEST)/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	$(LATEST)/bin/python requirements/envlock.py diff $(LOCK)
	$(LATEST)/bin/python $(PYTEST) $(ARGS)

demo: $(STAMP)
	$(BIN)/valuereview demo-data

# The demo warehouse is built only when no warehouse is configured and none exists yet.
reports: $(STAMP)
	@if [ -z "$$VALUEREVIEW_DB" ] && [ ! -f $(DB) ]; then $(BIN)/valuereview demo-data; fi
	$(BIN)/valuereview render $(ARGS)

# The suite on TEST_WORKERS pytest-xdist workers (0: in this process). A render waits on one core
# much of its time, so two workers fill a two-core machine. Each module's tests run on one worker
# (loadfile): its module fixtures are built once, and no two of its tests, which may look for
# their own processes, run at once. The session's shared render is built by each worker that
# needs it.
TEST_WORKERS ?= 2
PYTEST := -m pytest -n $(TEST_WORKERS) --dist loadfile

test: $(STAMP)
	$(BIN)/python $(PYTEST) $(ARGS)

test-fast: $(STAMP)
	$(BIN)/python $(PYTEST) -m "not slow and not postgres" $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check valuelib tests

clean:
	rm -rf output .pytest_cache

# Messages of valuelib, the notebooks and the templates (babel.cfg) → valuelib/report/locale/*.pot,
# merged into every catalog and compiled to .mo; fails naming the language and the message
# when any catalog lacks a translation (fuzzy counts as missing), and the language, the file
# and the first count when a Plural-Forms header disagrees with CLDR. The same sources give
# the same bytes, so a clean checkout stays clean. See README, "Languages".
i18n: $(STAMP)
	$(BIN)/python -m valuelib.report.i18n_tools

# The documents' fonts (valuelib/report/fonts/, checked in): cut again from Debian's fonts-dejavu-core,
# fonts-dejavu-extra and fonts-noto-core, renamed, with their licences. See tools/subset_fonts.py.
fonts: $(STAMP)
	$(BIN)/python tools/subset_fonts.py

# Proof that a change keeps every output's bytes (tools/output_digest.py): `make digest` renders the
# demo (both audiences, every language) and writes benchmarks/digest.txt; after the change,
# `make digest-check` renders again and names every file whose bytes differ.
DIGEST ?= benchmarks/digest.txt
digest: $(STAMP)
	$(BIN)/python tools/output_digest.py --write $(DIGEST) $(ARGS)

digest-check: $(STAMP)
	$(BIN)/python tools/output_digest.py --check $(DIGEST) $(ARGS)

# Benchmark protocol of docs/metrics.md: naive papermill loop (A), in-process floor (B),
# valuereview cold (C) and no change (D) on 40 demo accounts; appends to benchmarks/results.md.
# Options pass through: make bench ARGS="--naive-sample 10 --keep" (see benchmarks/bench.py).
bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench --accounts 40 --repeat 3 $(ARGS)

# 1,000 demo accounts end to end, C and D only (A and B would take hours); then the portfolio
# review of 10,000 billing-only accounts with 72 months of ARR each (phase P).
bench-scale: $(STAMP)
	$(BIN)/python -m benchmarks.bench --accounts 1000 --scale $(ARGS)
	$(BIN)/python -m benchmarks.bench --portfolio-accounts 10000 $(ARGS)
