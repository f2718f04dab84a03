# Two commands on a fresh machine: `make demo` and `make test`.
# Both create .venv with the machine's python3 if missing and install the
# project with its test extras; the stamp file re-installs when pyproject changes.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= 2

# Synapse (the Matrix homeserver the Matrix backend tests run against) lives in
# its own virtualenv so its pins never touch ours; installed once (~25 s, 240 MB).
SYNAPSE_VENV  := .venv-synapse
SYNAPSE_STAMP := $(SYNAPSE_VENV)/.installed-stamp
SYNAPSE_SPEC  ?= matrix-synapse>=1.163,<1.164

.PHONY: demo test lint bench clean synapse

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

$(SYNAPSE_STAMP):
	@test -x $(SYNAPSE_VENV)/bin/python || python3 -m venv $(SYNAPSE_VENV)
	@$(SYNAPSE_VENV)/bin/python -m pip install -q --disable-pip-version-check '$(SYNAPSE_SPEC)' 2>&1 | grep -v "^WARNING: Location" || true
	@$(SYNAPSE_VENV)/bin/python -c "import synapse.app.homeserver"
	@touch $(SYNAPSE_STAMP)

synapse: $(SYNAPSE_STAMP)

test: lint synapse
	$(PY) -m pytest -n $(PYTEST_WORKERS) --timeout=300 -q --durations=15

# make bench BENCH=bench/startup.py BENCH_ARGS="--runs 3": one script, its own options.
BENCH      ?= $(wildcard bench/*.py)
BENCH_ARGS ?=
bench: $(STAMP)
	@for b in $(BENCH); do echo "== $$b"; $(PY) $$b $(BENCH_ARGS) || exit 1; done

clean:
	rm -rf $(VENV) $(SYNAPSE_VENV) .mypy_cache .pytest_cache .ruff_cache
