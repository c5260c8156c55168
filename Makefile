# geosql — make targets for a newcomer's path and for each stage.
PYTHON ?= python3
VENV   ?= .venv
EXTRAS ?= dev
BIN    := $(VENV)/bin
WAREHOUSE ?= warehouse/geosql.duckdb
GEOSQL := $(BIN)/geosql --warehouse $(WAREHOUSE)

.PHONY: setup demo test lint bench clean init geoparse help

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

setup:  ## create .venv and install geosql (EXTRAS=dev by default; EXTRAS=dev,all for CLIP/Gemini/NLLB)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	@echo "geosql installed in $(VENV) with extras [$(EXTRAS)]"

demo:  ## build warehouse/geosql.duckdb from a generated sample and print distributions
	$(BIN)/python -m geosql.demo --warehouse $(WAREHOUSE)

init:  ## create the warehouse and load the bundled reference data
	$(GEOSQL) init

geoparse:  ## run the offline geoparser over all captions
	$(GEOSQL) run geoparse

test:  ## run the test suite (tests needing an extra or ../shared skip without it)
	$(BIN)/python -m pytest -q

lint:  ## ruff
	$(BIN)/ruff check geosql udfs tests scripts
	$(BIN)/ruff format --check geosql udfs tests scripts

bench:  ## print throughput figures (ingest, geoparse vs geotext, clip-embed)
	$(BIN)/geosql bench

clean:  ## remove the default warehouse
	rm -f $(WAREHOUSE) $(WAREHOUSE).wal
