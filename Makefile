# blacklist: developer commands. `make help` lists them.
#
# Needs only python3 (>= 3.11, with venv) and make. Everything else goes into .venv, which is
# (re)installed from pyproject.toml only when pyproject.toml is newer than .venv/.installed.

PYTHON     ?= python3
VENV       := .venv
STAMP      := $(VENV)/.installed
BIN        := $(VENV)/bin
FLASK      := $(BIN)/flask --app wsgi

# `make run`: where the SQLite file and the "demo data loaded" stamp live, and where to serve.
INSTANCE_DIR ?= $(CURDIR)/instance
SEEDED       := $(INSTANCE_DIR)/.seeded
HOST         ?= 127.0.0.1
PORT         ?= 5000
RUN_ENV      := BLACKLIST_INSTANCE_PATH='$(INSTANCE_DIR)'

# `make test`: extra pytest arguments, e.g. make test PYTEST_ARGS='-x tests/unit'.
PYTEST_ARGS ?=

# `make test-pg`: a throw-away PostgreSQL database on the local server (libpq variables honoured).
PGHOST     ?= 127.0.0.1
PGPORT     ?= 5432
PGUSER     ?= root
PGTEST_DB  ?= blacklist_test
PG_OPTS    := -h '$(PGHOST)' -p '$(PGPORT)' -U '$(PGUSER)'
ifeq ($(patsubst /%,/,$(PGHOST)),/)
PGTEST_URL := postgresql+psycopg://$(PGUSER)@/$(PGTEST_DB)?host=$(PGHOST)&port=$(PGPORT)
else
PGTEST_URL := postgresql+psycopg://$(PGUSER)@$(PGHOST):$(PGPORT)/$(PGTEST_DB)
endif

# The tests must not pick up the developer's own settings (a BLACKLIST_DATABASE_URL pointing at a
# real database, a production BLACKLIST_CONFIG...): every BLACKLIST_* variable but the test
# database URL is removed from their environment.
TEST_ENV := env $(foreach v,$(sort $(filter BLACKLIST_%,$(.VARIABLES))),\
	$(if $(filter BLACKLIST_TEST_DATABASE_URL,$(v)),,-u $(v)))

.DEFAULT_GOAL := help

.PHONY: help install run migrate seed reset test test-pg browser bench-tools bench lint format format-check check clean

help: ## List the targets
	@echo "blacklist - make targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

# --- virtual environment -------------------------------------------------------------------------

$(VENV)/pyvenv.cfg:
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
		echo "error: '$(PYTHON)' not found on PATH; install Python >= 3.11 (or: make PYTHON=/path/to/python3.11)" >&2; \
		exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "error: $(PYTHON) is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())'); blacklist needs Python >= 3.11 (or: make PYTHON=/path/to/python3.11)" >&2; \
		exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml $(VENV)/pyvenv.cfg
	$(BIN)/pip install -e '.[dev]'
	@touch $@

install: $(STAMP) ## Create .venv and install the project with its dev tools

# --- the local server ----------------------------------------------------------------------------

run: migrate $(SEEDED) ## Migrate + seed demo data once, then serve on http://127.0.0.1:5000 (with the scheduler and push worker)
	@echo "Serving on http://$(HOST):$(PORT)  (demo logins were printed when seed-demo ran; 'make reset' starts over)"
	$(RUN_ENV) $(FLASK) serve --host $(HOST) --port $(PORT)

migrate: $(STAMP) ## Apply database migrations (flask db upgrade)
	$(RUN_ENV) $(FLASK) db upgrade

# Seeded once per database: the stamp sits beside the SQLite file, so `make reset` removes both.
$(SEEDED): | migrate
	$(RUN_ENV) $(FLASK) seed-demo
	@touch $@

seed: $(SEEDED) ## Load the demo data (once; 'make reset' to start over)

reset: ## Delete instance/ (the SQLite database and the seed stamp)
	rm -rf -- '$(INSTANCE_DIR)'

# --- tests and code quality ----------------------------------------------------------------------

test: $(STAMP) browser bench-tools ## Run the tests (SQLite; PYTEST_ARGS='...' for extra arguments)
	$(TEST_ENV) $(BIN)/pytest -q $(PYTEST_ARGS)

# The browser tests drive Debian's chromium with Playwright (the Python package is a dev
# dependency; its own browser download is never used). Installed here when missing and we are root
# with apt-get; otherwise the browser tests skip and say why. Never fails the build by itself.
# The document tests render PDFs with Debian's pdftoppm (poppler-utils), installed the same way.
CHROMIUM ?= /usr/bin/chromium
browser: ## Install Debian's chromium (and CJK fonts) and pdftoppm for the browser and PDF tests, if possible
	@if [ -x "$(CHROMIUM)" ] && command -v pdftoppm >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium, fonts-noto-cjk and poppler-utils for the browser and PDF tests (apt-get)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk poppler-utils >/dev/null) \
			|| echo "warning: could not install chromium/poppler-utils: the browser and PDF rendering tests will be skipped"; \
	else \
		echo "note: chromium or pdftoppm is missing and cannot be installed here (needs root and apt-get): the browser and PDF rendering tests will be skipped"; \
	fi

# --- benchmarks (docs/performance.md) ------------------------------------------------------------

# The load generator is Debian's wrk, installed like chromium above; without it the benchmark smoke
# tests skip and say why.
bench-tools: ## Install Debian's wrk (the load generator of the benchmarks), if possible
	@if command -v wrk >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing wrk for the benchmarks (apt-get)"; \
		(DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
		 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)) \
			|| echo "warning: could not install wrk: the benchmark smoke tests will be skipped"; \
	else \
		echo "note: wrk is missing and cannot be installed here (needs root and apt-get)"; \
	fi

SCALE ?= 100000
BENCH_ARGS ?=
bench: $(STAMP) bench-tools ## Generate SCALE listings (default 100000) on local PostgreSQL and run the benchmarks; BENCH_ARGS='--reuse'
	$(BIN)/python -m bench.run --scale $(SCALE) $(BENCH_ARGS)

test-pg: $(STAMP) ## Run the tests against a fresh PostgreSQL database (PGTEST_DB, PGHOST, PGUSER)
	dropdb $(PG_OPTS) --if-exists '$(PGTEST_DB)'
	createdb $(PG_OPTS) '$(PGTEST_DB)'
	$(MAKE) --no-print-directory test BLACKLIST_TEST_DATABASE_URL='$(PGTEST_URL)'

lint: $(STAMP) ## ruff check
	$(BIN)/ruff check .

format: $(STAMP) ## ruff format + safe autofixes (import order...)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

format-check: $(STAMP) ## ruff format --check
	$(BIN)/ruff format --check .

check: lint format-check test ## lint + format-check + test: what to run before committing

clean: ## Remove caches (keeps .venv and instance/)
	rm -rf .pytest_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
