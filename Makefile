# Ladder CRM — the two commands a newcomer needs: `make demo` and `make test`.
# Each target creates .venv and installs the project when missing.

# `make test` probes the service ports with bash's /dev/tcp; Debian's /bin/sh (dash)
# has no such thing and would silently fall back to SQLite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

# Service URLs used by `make test` when the services answer on this machine
# (PostgreSQL 127.0.0.1:5432, Redis 127.0.0.1:6379); otherwise the embedded
# SQLite default is used and service tests skip (or fail with REQUIRE_SERVICES=1).
PG_URL ?= postgres://postgres@127.0.0.1:5432/ladder
REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: demo test install serve lint bench clean messages screenshots

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)
	@if command -v msgfmt >/dev/null; then \
	  $(BIN)/python manage.py compilemessages --ignore=.venv >/dev/null; \
	else echo "gettext (msgfmt) is missing: pages stay in English (apt-get install gettext)"; fi

demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo
	@echo "Serving Ladder CRM on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	$(BIN)/python manage.py runserver $(HOST):$(PORT) --noreload

serve: $(STAMP)
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	@set -e; \
	if [ -z "$$DATABASE_URL" ] && (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then \
	  export DATABASE_URL="$(PG_URL)"; fi; \
	if [ -z "$$TEST_REDIS_URL" ] && (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then \
	  export TEST_REDIS_URL="$(REDIS_URL)"; fi; \
	echo "database: $${DATABASE_URL:-embedded SQLite}; redis: $${TEST_REDIS_URL:-none}"; \
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# README screenshots: the demo shop in var/screenshots/, Debian's Chromium.
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

bench: $(STAMP)
	$(BIN)/python bench/bench_import.py
	$(BIN)/python bench/bench_rules.py

# Refresh the Italian catalogue from the code (then translate the new
# entries in crm/locale/it/LC_MESSAGES/django.po) and compile it.
messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l it --no-obsolete \
	  --ignore=.venv --ignore=staticfiles --ignore=tests --ignore=bench
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles var .pytest_cache
