# The interface to roadsafe. `make demo` and `make test` set everything up on a fresh machine.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.roadsafe-installed
export ROADSAFE_HOME ?= $(CURDIR)/var
export PYTHONDONTWRITEBYTECODE := 1
PY_DIRS := roadsafe ingest dashboards portal application dags tests bench

.PHONY: setup demo test test-fast lint bench up down snapshots clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt scripts/bootstrap.sh
	scripts/bootstrap.sh
	@touch $@

demo: $(STAMP)
	$(BIN)/roadsafe demo

# The tests/ folders spread over three pytest-xdist workers, each folder whole on one worker
# (tests/conftest.py): three on two cores, as much of the suite waits on Airflow, dbt and Chromium
# (12.8 min against 15.1 min with two). `make test TEST_WORKERS=0` runs it serially.
TEST_WORKERS ?= 3
test: $(STAMP)
	scripts/services.sh
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/pytest -n $(TEST_WORKERS)

test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check $(PY_DIRS)

# Speed and memory against the goals in bench/RESULTS.md, as ratios to baselines measured in the same run
# (~40 min on 2 cores; work files under var/bench). Writes bench/RESULTS.md.
bench: $(STAMP)
	$(BIN)/python -m bench

# Airflow on this machine: `make up` (SQLite, LocalExecutor) or `make up ROADSAFE_PROFILE=prod` (PostgreSQL,
# Redis, two Celery workers on the local services); `make down` stops exactly what `up` started.
up: $(STAMP)
	$(if $(filter prod,$(ROADSAFE_PROFILE)),scripts/services.sh)
	$(BIN)/roadsafe airflow up $(if $(ROADSAFE_PROFILE),--profile $(ROADSAFE_PROFILE))

down: $(STAMP)
	$(BIN)/roadsafe airflow down

snapshots: $(STAMP)
	ROADSAFE_UPDATE_SNAPSHOTS=1 $(BIN)/pytest tests/dashboards -k snapshot

clean:
	rm -rf var test-output
