# Parity's two set-up commands: `make demo` and `make test`. Both build .venv from the lock file.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
UV_VERSION := 0.13.9
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test lint bench format clean sync screenshots

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# One environment for the demo and the tests, so running one never uninstalls the other's tools.
# Bytecode is compiled at install (site-packages by uv, Parity's own editable sources here), so a
# command run with PYTHONDONTWRITEBYTECODE=1 (common in containers) never compiles from source.
sync: $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode --extra dev
	$(BIN)/python -m compileall -q -j 0 src

demo: sync
	$(BIN)/python examples/demo.py
	@echo "parity is installed in $(VENV): 'source $(VENV)/bin/activate' puts it on PATH (or run $(BIN)/parity)"

# `make test`: every test not marked slow, on both cores, and every module imported by one.
# `make test TESTS=all`: the whole suite, as CI runs it.
test: sync
ifeq ($(TESTS),all)
	$(BIN)/python -m pytest -q -n 2
else
	PARITY_TEST_EVERY_MODULE=1 $(BIN)/python -m pytest -q -n 2 -m "not slow"
endif

lint: sync
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/lint-imports

# The team-mode benchmark needs a PostgreSQL server it may create databases on: this machine's own
# unless PARITY_TEST_POSTGRES_URL names another.
bench: export PARITY_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
bench: sync
	$(BIN)/python -m benchmarks

# The web UI's screenshots in docs/ui/ (README shows them), taken in Debian's chromium.
screenshots: sync
	$(BIN)/python -m tests.ui.screenshots docs/ui

format: sync
	$(BIN)/ruff check --fix src tests benchmarks examples
	$(BIN)/ruff format src tests benchmarks examples

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
