# Two commands do everything on a fresh machine (Python 3.11+, Java 17, npm):
#   make run   — install, start the local stack, replay the demo, keep serving (Ctrl-C stops)
#   make test  — install, then lint, type-check, validate policies, and run every test on DynamoDB Local
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
STAMP  := $(VENV)/.installed

export AWS_DEFAULT_REGION ?= us-east-1
export AWS_EC2_METADATA_DISABLED := true

.PHONY: install run test lint bench package clean chromium

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt -e .
	$(BIN)/python -m chalicelib.local.dynamodb_local
	touch $@

install: $(STAMP)

run: install
	PORT=$(PORT) $(BIN)/carewire serve --demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/carewire policies check
	$(BIN)/carewire stages check

test: lint chromium
	$(BIN)/pytest

# The console's browser tests (tests/browser/) drive Debian's headless Chromium; installed here when missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium package for the console's browser tests (apt-get, as root)..."; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Not root: run 'sudo apt-get install -y chromium'; until then the browser tests are skipped."; fi; }

bench: install
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(BIN)/python bench/similarity_bench.py
	$(BIN)/python bench/pipeline_bench.py
	$(BIN)/python bench/classify_bench.py
	$(BIN)/python bench/delivery_bench.py

package: install
	$(BIN)/carewire package --out build/package

clean:
	rm -rf $(VENV) build .carewire .chalice/deployments .mypy_cache .ruff_cache .pytest_cache
