# Shoplingo — every workflow goes through uv and the committed uv.lock.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV ?= $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
LOCALES := locales
LANGS := de fr es ja zh_Hans

.PHONY: help install uv messages messages-extract messages-update messages-compile migrate run \
        test test-deps lint format typecheck check bench-serve bench-import bench-translate bench-glossary \
        bench-legal bench-storefront bench-support bench-abuse clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

uv: ## make sure uv is installed
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

install: uv ## install the locked dependencies into .venv and compile the message catalogs
	$(UV) sync --frozen
	@$(MAKE) --no-print-directory messages-compile

messages-extract: ## collect API messages from src/ into locales/messages.pot
	$(UV) run pybabel extract -F babel.cfg -k N_ -k _ --no-location --sort-output \
	    --project=shoplingo --copyright-holder=Shoplingo -o $(LOCALES)/messages.pot .

messages-update: messages-extract ## merge new messages into every locales/<lang>/LC_MESSAGES/messages.po
	$(UV) run pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) -D messages --no-fuzzy-matching

messages-compile: ## build the .mo files the API serves (not committed)
	$(UV) run pybabel compile -d $(LOCALES) -D messages --statistics 2>&1 | grep -v '^compiling' || true

messages: messages-update messages-compile ## extract, merge and compile

migrate: install ## create the database if missing and apply migrations
	$(UV) run shoplingo migrate

run: install ## migrate, create a demo tenant and key, start the API (Ctrl-C stops everything)
	@bash scripts/run.sh

test-deps: ## chromium and the TypeScript packages the contract tests use (installed when missing)
	@bash scripts/test-deps.sh

test: install test-deps ## run the whole test suite against the local PostgreSQL and Redis
	$(UV) run pytest

lint: ## ruff lint and format check
	$(UV) run ruff check src tests migrations bench
	$(UV) run ruff format --check src tests migrations bench

format: ## apply ruff fixes and formatting
	$(UV) run ruff check --fix src tests migrations bench
	$(UV) run ruff format src tests migrations bench

typecheck: ## mypy, strict on src/, tests/ and bench/
	$(UV) run mypy

check: install lint typecheck test ## everything CI runs (.ci/run): lint, types, tests

bench-serve: ## granian vs uvicorn on the same app (needs wrk)
	$(UV) run python bench/serve.py

bench-import: ## catalog import vs raw COPY, and worker memory (100k rows; takes minutes)
	$(UV) run python bench/import_bench.py

bench-translate: ## 6,000 segments vs the fake LLM (200 ms): rate vs ideal, re-run calls
	$(UV) run python bench/translate_bench.py

bench-glossary: ## 10,000-term glossary vs 100,000 segments: checks/s on one core
	$(UV) run python bench/glossary_bench.py
bench-legal: ## legal classification of 200k catalog texts: texts/s and microseconds per text
	$(UV) run python bench/legal_bench.py
bench-storefront: ## storefront product / 304 / bundle vs a bare handler of the same size (needs wrk)
	$(UV) run python bench/storefront_bench.py
bench-support: ## 200 support drafts vs the fake LLM (200 ms): request -> ready p50/p95
	$(UV) run python bench/support_bench.py
bench-abuse: ## another shop's storefront p50/p99 with and without 12 slow bundle readers
	$(UV) run python bench/abuse_bench.py

clean: ## remove build output
	find $(LOCALES) -name '*.mo' -delete
	rm -rf .pytest_cache .mypy_cache .ruff_cache
