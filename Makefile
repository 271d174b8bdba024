# The README's two commands are `make run` and `make test`; both set everything up themselves.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install run demo test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: install
	$(BIN)/diplowatch seed
	$(BIN)/diplowatch run

demo: install
	$(BIN)/diplowatch demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy diplowatch store workers crawler web

test: install lint
	eval "$$(PYTHON=$(BIN)/python scripts/test-services.sh)" && $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	eval "$$(PYTHON=$(BIN)/python scripts/test-services.sh)" && $(BIN)/python bench/seed_import.py && $(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
