# Quick start: `make run` (the demo watch over the bundled seeds) and `make test`.
# Everything installs into .venv from the hash-pinned lock file (requirements.lock).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install run test lint bench fixtures lock docs clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/newswatch run

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check newswatch extractors warehouse alerts flows tests bench seeds

fixtures: $(STAMP)
	$(BIN)/python seeds/build_fixtures.py

docs: $(STAMP)
	$(BIN)/python -m warehouse.docs > docs/schema.md

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# Re-resolve the lock file after changing dependencies in pyproject.toml (needs the package index).
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --allow-unsafe --extra test --strip-extras --generate-hashes \
		--output-file requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache out newswatch.duckdb newswatch.duckdb.wal newswatch.duckdb.run-lock
