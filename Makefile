# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: run test lint typecheck pytest sandbox bench soak format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(PIP) -e '.[dev]'
	touch $@

## Set up (first time) and run the bot with the settings from .env or the environment.
run: $(VENV)/.runtime
	$(BIN)/intake-bot run

## Try the whole bot in the terminal, without Telegram.
sandbox: $(VENV)/.runtime
	$(BIN)/intake-bot sandbox

## Set up (first time) and run every check: lint, format, types, tests.
test: lint typecheck pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev
	$(BIN)/mypy

pytest: $(VENV)/.dev
	$(BIN)/pytest

## The long tests: 10,000 notifications at Telegram's real limits (about 7 minutes).
soak: $(VENV)/.dev
	$(BIN)/pytest -m soak -s

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
