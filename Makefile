PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean venv fuzz web lock

# Dependencies come from the hashed lock (same versions on every machine, CI and the image);
# the project itself is installed on top without resolving anything again.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Re-resolve the lock (newest versions allowed by pyproject.toml); run the tests afterwards.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra test --generate-hashes --python-version 3.11 \
		--universal --custom-compile-command "make lock" $(LOCK_ARGS) -o requirements.lock

venv: $(STAMP)

# development mode is explicit: without EAKTE_ENV=dev the service runs as production
run: $(STAMP)
	EAKTE_ENV=dev $(BIN)/eakte migrate
	EAKTE_ENV=dev $(BIN)/eakte seed-demo --print-tokens
	EAKTE_ENV=dev $(BIN)/eakte serve

test: $(STAMP)
	$(BIN)/python -m pytest -q

fuzz: $(STAMP)
	EAKTE_FUZZ_EXAMPLES=$${EAKTE_FUZZ_EXAMPLES:-300} $(BIN)/python -m pytest -q tests/hardening/test_openapi_fuzz.py

# Rebuild the web app into eakte/webapp/static (committed; `make run` needs no Node).
web:
	cd web && npm ci --no-audit --no-fund && npm run build

lint: $(STAMP)
	$(BIN)/ruff check eakte workflows storage tests bench
	$(BIN)/mypy

# five rounds per co-editing workload: single rounds of the ratio vary by +-30 % on a small VM
COLLAB_ARGS ?= --rounds 5

bench: $(STAMP)
	$(BIN)/python bench/upload.py $(BENCH_ARGS)
	$(BIN)/python bench/downloads.py $(DOWNLOAD_ARGS)
	$(BIN)/python bench/collab/run.py $(COLLAB_ARGS)
	$(BIN)/python bench/status.py
	$(BIN)/python bench/scale.py $(SCALE_ARGS)
	$(BIN)/python bench/xbau.py $(XBAU_ARGS)
	$(BIN)/python bench/search.py $(SEARCH_ARGS)
	$(BIN)/python bench/issuing.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
