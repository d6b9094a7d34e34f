# gradtrack — two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
BIN     := $(VENV)/bin
UV      := .tools/bin/uv
STAMP   := $(VENV)/.installed
DEMO    := build/demo
KEYFILE ?= $(HOME)/.config/gradtrack/demo.key
GRADUATES ?= 2000
COHORTS ?= 2019 2020
DEV_HOST ?= 127.0.0.1
DEV_PORT ?= 3000
# `make dev &` from a script inherits an ignored SIGINT, and `dagster dev` then ignores SIGTERM too:
# exec it with the default SIGINT handler so that SIGTERM to its process group stops it.
WITH_SIGINT := $(BIN)/python -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])'

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help install demo test lint format dev bench clean chromium manifest

help:
	@echo "make demo   install, generate sample data, run the whole pipeline, print where outputs are"
	@echo "make test   install and run the test suite"
	@echo "make lint   ruff + sqlfluff;  make dev  Dagster UI on the demo data (DEV_PORT=3000);  make bench  end-to-end benchmark at 100k, 1M, 3M"

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==0.13.9

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python python3
	@touch $@

install: $(STAMP)

# A local demo key outside the repository: never commit a key, never store it with the data.
$(KEYFILE):
	@mkdir -p $(dir $(KEYFILE))
	@python3 -c "import secrets; print(secrets.token_urlsafe(32))" > $(KEYFILE)
	@chmod 600 $(KEYFILE)
	@echo "Created demo pseudonymisation key $(KEYFILE)"

# The demo's Dagster instance: `make demo` records its run there and `make dev` shows it.
DAGSTER_YAML := $(DEMO)/dagster_home/dagster.yaml
$(DAGSTER_YAML): orchestration/dagster.yaml
	mkdir -p $(dir $@)
	cp $< $@

demo: install $(KEYFILE) $(DAGSTER_YAML)
	rm -rf $(DEMO)/landing $(DEMO)/landing.truth
	$(BIN)/gradtrack sample --out $(DEMO)/landing --graduates $(GRADUATES) $(foreach c,$(COHORTS),--cohorts $(c))
	DAGSTER_HOME=$(abspath $(DEMO))/dagster_home GRADTRACK_PSEUDONYM_KEY_FILE=$(KEYFILE) \
	  $(BIN)/gradtrack run --landing $(DEMO)/landing --warehouse $(DEMO)/gradtrack.duckdb
	@echo
	@echo "Landing folder: $(DEMO)/landing   (ground truth for tests: $(DEMO)/landing.truth)"
	@echo "Warehouse:      $(abspath $(DEMO))/gradtrack.duckdb   (the pipeline's; it holds restricted identifiers)"
	@echo "For analysts:   $(abspath $(DEMO))/gradtrack.analyst.duckdb   (open it: duckdb -readonly $(DEMO)/gradtrack.analyst.duckdb)"
	@echo "Reports:        $(abspath $(DEMO))/reports/index.html"

# Debian's Chromium for the browser tests (reports, Dagster UI); root on CI machines, else sudo.
chromium:
	@command -v chromium >/dev/null || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

manifest: install
	$(BIN)/dbt parse --project-dir dbt_project --profiles-dir dbt_project --quiet

test: install manifest chromium
	$(BIN)/python -m pytest -q

lint: manifest
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@mkdir -p build
	# The dbt templater opens a connection: give it a scratch database, never a real warehouse.
	GRADTRACK_WAREHOUSE=$(abspath build/lint.duckdb) $(BIN)/sqlfluff lint dbt_project/models

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

dev: manifest $(KEYFILE) $(DAGSTER_YAML)
	@test -d $(DEMO)/landing || $(MAKE) demo
	DAGSTER_HOME=$(abspath $(DEMO))/dagster_home GRADTRACK_PSEUDONYM_KEY_FILE=$(KEYFILE) \
	GRADTRACK_LANDING=$(abspath $(DEMO))/landing GRADTRACK_WAREHOUSE=$(abspath $(DEMO))/gradtrack.duckdb \
	GRADTRACK_REPORTS=$(abspath $(DEMO))/reports GRADTRACK_ANALYST_DATABASE=$(abspath $(DEMO))/gradtrack.analyst.duckdb \
	$(WITH_SIGINT) $(BIN)/dagster dev -w workspace.yaml -h $(DEV_HOST) -p $(DEV_PORT)

clean:
	rm -rf build .pytest_cache .ruff_cache dbt_project/target dbt_project/logs

# End to end at each size (CPU ratio to bench/baseline.py); results appended to docs/benchmarks.md.
BENCH_SIZES ?= 100000 1000000 3000000
bench: manifest
	for n in $(BENCH_SIZES); do $(BIN)/python bench/run_bench.py --graduates $$n || exit 1; done
