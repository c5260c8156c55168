# geosql — make targets for a newcomer's path and for each stage.
PYTHON ?= python3
VENV   ?= .venv
EXTRAS ?= dev
BIN    := $(VENV)/bin
WAREHOUSE ?= warehouse/geosql.duckdb
GEOSQL := $(BIN)/geosql --warehouse $(WAREHOUSE)

.PHONY: native setup demo test lint bench clean init geoparse help setup-browser

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

STAMP  := $(VENV)/.geosql-installed

setup:  ## create .venv and install geosql (EXTRAS=dev by default; EXTRAS=dev,all for every model family)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	$(MAKE) native
	touch $(STAMP)
	@echo "geosql installed in $(VENV) with extras [$(EXTRAS)]"

NATIVE := udfs/gazetteer/native/_fastpass.so

native:  ## build the geoparser's native per-token pass (optional: without a C compiler the SQL path runs)
	$(CC) -O2 -shared -fPIC udfs/gazetteer/native/fastpass.c -o $(NATIVE) \
	  || echo "native pass not built: the geoparser runs its SQL path (same answers, slower)"

$(STAMP): pyproject.toml  ## the venv, made on first use (and again when pyproject.toml changes)
	$(MAKE) setup

demo: $(STAMP)  ## build warehouse/geosql.duckdb from a generated sample, print distributions, write the report
	$(BIN)/python -m geosql.demo --warehouse $(WAREHOUSE)

init: $(STAMP)  ## create the warehouse and load the bundled reference data
	$(GEOSQL) init

geoparse: $(STAMP)  ## run the offline geoparser over all captions
	$(GEOSQL) run geoparse

test: $(STAMP)  ## run the test suite (tests needing an extra, ../shared or Chromium skip without it)
	$(BIN)/python -m pytest -q

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check geosql udfs tests scripts
	$(BIN)/ruff format --check geosql udfs tests scripts

bench: $(STAMP)  ## print throughput figures (ingest, geoparse vs geotext, clip-embed)
	$(BIN)/geosql bench

clean:  ## remove the default warehouse
	rm -f $(WAREHOUSE) $(WAREHOUSE).wal

setup-browser:  ## install Debian chromium for the report's browser tests (once; needs root)
	test -x /usr/bin/chromium || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
