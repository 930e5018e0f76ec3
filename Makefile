# The two commands a newcomer needs (see README.md):
#   make run    install everything, migrate, seed the demo course, start the embedded broker (when
#               REDIS_URL is unset), web, worker, beat and its housekeeper
#   make test   install everything, then lint, check migrations and run the test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
WEB_HOST ?= 127.0.0.1
WEB_PORT ?= 8000
export WEB_HOST WEB_PORT

.PHONY: run test lint format pytest migrate seed worker clean help
.DEFAULT_GOAL := help

help:
	@echo "make run    install, migrate, seed the demo course, start broker, web (http://$(WEB_HOST):$(WEB_PORT)/), worker and beat"
	@echo "make test   install, then ruff, makemigrations --check and pytest"
	@echo "make format apply ruff's formatting and safe fixes"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (found %d.%d); set PYTHON=/path/to/python3.11" % sys.version_info[:2])' \
		|| { echo "Python 3.11 is required: install it, or run make PYTHON=/path/to/python3.11 ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Reinstall only when a requirements file changed since the last install.
$(VENV)/.run-deps: requirements.txt | $(BIN)/python
	@echo "Installing requirements.txt into $(VENV)/ (the first time takes a few minutes: torch, nbgrader)"
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	@touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(BIN)/python
	@echo "Installing requirements-dev.txt into $(VENV)/ (the first time takes a few minutes)"
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $@ $(VENV)/.run-deps

migrate: $(VENV)/.run-deps
	@echo "Migrating the database (DATABASE_URL, or SQLite in var/)"
	$(BIN)/python manage.py migrate --no-input

seed: migrate
	@echo "Setting up the demo course (manage.py seed_demo; Django starts in a few seconds)"
	$(BIN)/python manage.py seed_demo

run: seed
	@echo "Starting the broker (embedded Redis unless REDIS_URL is set), web on http://$(WEB_HOST):$(WEB_PORT)/, a Celery worker (queues default, gpu), beat and its housekeeper worker (queue maintenance). Ctrl-C stops them all."
	@$(BIN)/python deploy/dev.py -f Procfile

lint: $(VENV)/.dev-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

pytest: $(VENV)/.dev-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint pytest

format: $(VENV)/.dev-deps
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var/test .pytest_cache .ruff_cache test-artifacts
