# Every target creates .venv and installs what it needs when missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# Without a token (environment or .env) a newcomer lands in the offline console.
run: $(STAMP)
	@if [ -n "$$TELEGRAM_BOT_TOKEN" ] || grep -qE "^[[:space:]]*TELEGRAM_BOT_TOKEN=[\"']?[0-9]" .env 2>/dev/null; then \
		$(BIN)/paperboy run; \
	else \
		echo "set TELEGRAM_BOT_TOKEN in .env to run the real bot (paperboy run); starting the offline console"; \
		$(BIN)/paperboy console; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Two workers: the suite waits on subprocesses, PostgreSQL and files about half the time (serial
# it took 7-8 min on 2 cores). Each worker has its own template databases (tests/conftest.py).
PYTEST_WORKERS ?= 2

test: lint
	$(BIN)/pytest -q -n $(PYTEST_WORKERS)

# Every benchmark; each prints one JSON object as its last line.
bench: $(STAMP)
	$(BIN)/pip install -q -e '.[dev,bench]'  # kiwipiepy, for bench.search_analysers
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.search
	$(BIN)/python -m bench.tops --keep data/bench100k.sqlite3
	$(BIN)/python -m bench.trends --keep data/bench100k.sqlite3
	$(BIN)/python -m bench.commands
	$(BIN)/python -m bench.broadcast limits
	$(BIN)/python -m bench.broadcast unlimited
	$(BIN)/python -m bench.broadcast faults
	$(BIN)/python -m bench.summarize
	$(BIN)/python -m bench.freshness
	$(BIN)/python -m bench.memory
	$(BIN)/python -m bench.foryou
	$(BIN)/python -m bench.search_relevance

clean:
	rm -rf $(VENV) data .mypy_cache .pytest_cache .ruff_cache
