# Two commands on a fresh machine: `make demo` and `make test`.
# Both create .venv with the machine's python3 if missing and install the
# project with its test extras; the stamp file re-installs when pyproject changes.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= 2

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v "^WARNING: Location" || true
	@$(PY) -c "import console, textual, httpx, websockets" 
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/agent-console demo

lint: $(STAMP)
	$(VENV)/bin/ruff check console tests bench
	$(VENV)/bin/mypy console
	$(VENV)/bin/lint-imports

test: lint
	$(PY) -m pytest -n $(PYTEST_WORKERS) --timeout=300 -q --durations=15

# make bench BENCH=bench/startup.py BENCH_ARGS="--runs 3": one script, its own options.
BENCH      ?= $(wildcard bench/*.py)
BENCH_ARGS ?=
bench: $(STAMP)
	@for b in $(BENCH); do echo "== $$b"; $(PY) $$b $(BENCH_ARGS) || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
