# supportbot: `make run` to try it, `make test` to test it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEV    := SUPPORTBOT_ENV=development

.PHONY: run test lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)  ## development server on http://127.0.0.1:5000 (SQLite, jobs in process, sandbox Twilio)
	$(DEV) $(BIN)/flask --app wsgi db upgrade
	@$(DEV) $(BIN)/flask --app wsgi signed-curl "Hello, my order has not arrived" --url http://127.0.0.1:5000
	@echo "Dev phone (text the bot as a customer): http://127.0.0.1:5000/sandbox/phone"
	@echo "Admin console: http://127.0.0.1:5000/admin  (development sign-in: admin@localhost / admin;"
	@echo "  ADMIN_EMAIL and ADMIN_PASSWORD in .env change it before the first sign-in)"
	$(DEV) $(BIN)/flask --app wsgi run --host 127.0.0.1 --port 5000

test: $(STAMP)  ## lint, the import contracts, the type checker and the whole suite (Postgres, Redis, Chromium)
	@# the browser tests need Debian's chromium, the alert-rule tests promtool (Debian's prometheus)
	@(test -x /usr/bin/chromium && command -v promtool >/dev/null) || [ "$$(id -u)" != 0 ] || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    chromium prometheus >/dev/null)
	$(BIN)/ruff check supportbot standins tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check supportbot standins tests bench
	$(BIN)/ruff format --check supportbot standins tests bench

format: $(STAMP)
	$(BIN)/ruff format supportbot standins tests bench
	$(BIN)/ruff check --fix supportbot standins tests bench

bench: $(STAMP)  ## the benchmarks in bench/ (minutes; prints their figures)
	$(BIN)/python -m bench.inbound

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
