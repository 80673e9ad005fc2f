SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
DEMO_DIR ?= var/demo
DEMO_CUSTOMERS ?= 20000
DEMO_PASSWORD ?= demo-password

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing recall and its dependencies into $(VENV) ..."
	@$(BIN)/python -m pip install -q --upgrade pip 2>&1 | { grep -v 'is ignored: it is neither' || true; }
	@$(BIN)/python -m pip install -q -e '.[dev]' 2>&1 | { grep -v 'is ignored: it is neither' || true; }
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)  ## create .venv and install the project

browser:  ## Debian's chromium for the browser tests (installed as root; never a downloaded browser)
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the browser tests ..."; \
	    apt-get install -y -q chromium >/dev/null 2>&1 || \
	      { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; \
	  else echo "chromium is missing: browser tests will be skipped (apt-get install chromium)"; fi; }

test: $(STAMP) browser  ## run the test suite (SQLite, and PostgreSQL when reachable)
	$(BIN)/pytest

screenshots: $(STAMP) browser  ## screenshots of the console, the customer's page and e-mail, and the report, into docs/
	RECALL_UPDATE_DOCS=1 $(BIN)/pytest -q tests/test_browser.py tests/test_progress_report.py \
	  tests/test_regulator_figures.py tests/test_self_service_browser.py \
	  tests/test_digital_reach_browser.py tests/test_console_day_browser.py -k "not postgresql"

demo: $(STAMP)  ## generate demo data, import it, launch a sample recall, print the summary
	@RECALL_DATA_DIR=$(DEMO_DIR) $(BIN)/recall engine stop >/dev/null  # an earlier demo's engine
	rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	$(BIN)/recall demo-data --customers $(DEMO_CUSTOMERS) --out $(DEMO_DIR)/data --bad-rows
	RECALL_DATA_DIR=$(DEMO_DIR) $(BIN)/recall import --customers $(DEMO_DIR)/data/customers.csv \
	  --purchases $(DEMO_DIR)/data/purchases.csv --products $(DEMO_DIR)/data/products.csv \
	  --stores $(DEMO_DIR)/data/stores.csv
	RECALL_DATA_DIR=$(DEMO_DIR) $(BIN)/recall agents import $(DEMO_DIR)/data/agents.csv
	RECALL_DATA_DIR=$(DEMO_DIR) $(BIN)/recall launch $(DEMO_DIR)/data/recall.yaml
	RECALL_DATA_DIR=$(DEMO_DIR) $(BIN)/recall cases R-2026-014 --csv $(DEMO_DIR)/cases.csv
	RECALL_DATA_DIR=$(DEMO_DIR) $(BIN)/recall calls sheet R-2026-014 --agent AG002 --out $(DEMO_DIR)/call-sheets
	RECALL_DATA_DIR=$(DEMO_DIR) $(BIN)/recall report R-2026-014
	RECALL_DATA_DIR=$(DEMO_DIR) $(BIN)/recall monthly-report R-2026-014
	for user in "lead --role lead" "reporting --role reporting" "ag002 --role agent --agent AG002"; do \
	  RECALL_DATA_DIR=$(DEMO_DIR) DEMO_PASSWORD=$(DEMO_PASSWORD) \
	    $(BIN)/recall users add $$user --password-env DEMO_PASSWORD; done
	@echo "demo data, database, cases.csv, a call sheet and the progress report are in $(DEMO_DIR)"
	@echo "web console: RECALL_DATA_DIR=$(DEMO_DIR) $(BIN)/recall serve, then open" \
	  "http://127.0.0.1:8000 as lead, reporting or ag002 (password: $(DEMO_PASSWORD))"

bench: $(STAMP)  ## run the benchmarks and write docs/benchmarks.md
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.letters
	$(BIN)/python -m benchmarks.calls
	$(BIN)/python -m benchmarks.console
	$(BIN)/python -m benchmarks.reports
	$(BIN)/python -m benchmarks.reach

messages: $(STAMP)  ## the message ids the code and pages say, into var/recall.pot (French: templates/locale/fr)
	mkdir -p var && $(BIN)/pybabel extract -F templates/locale/babel.cfg -k translate:2 -o var/recall.pot .
	$(BIN)/pytest -q tests/test_catalogues.py

lint: $(STAMP)  ## ruff, mypy and the import contracts (.importlinter)
	$(BIN)/ruff check recall flows tests benchmarks
	$(BIN)/ruff format --check recall flows tests benchmarks
	$(BIN)/mypy recall
	$(BIN)/lint-imports --no-cache

clean:  ## remove the virtualenv and local data (stopping the demo's flow engine first)
	@test ! -x $(BIN)/recall || RECALL_DATA_DIR=$(DEMO_DIR) $(BIN)/recall engine stop >/dev/null
	rm -rf $(VENV) var

.PHONY: help install browser test screenshots demo bench messages lint clean
