# feedgen-dw. `make run` runs the daemon on config.yaml and serves the feeds (PORT=8080),
# `make poll` polls once and exits, `make demo` replays a live day offline and serves it,
# `make test` runs the tests. Needs Python 3.11 or newer (PYTHON=python3.12 to pick one).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config.yaml
HOST ?= 127.0.0.1
PORT ?= 8080
# editable as a plain path in a .pth file: setuptools' default editable finder imports
# pathlib, fnmatch and importlib.util in every process, 20-30 ms of each short `run`
EDITABLE := --config-settings editable_mode=compat -e

.PHONY: install install-dev run poll test crash-test bench bench-scale lint demo clean

# the tool alone (run, poll, demo); the test and lint tools only for test and lint
install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

# a .venv whose install failed is removed, so the next make builds it afresh
$(VENV)/.runtime: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "feedgen-dw needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) -V 2>&1 || echo missing) (try: make $(MAKECMDGOALS) PYTHON=python3.11)" >&2; \
	  exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV) && \
	  $(BIN)/pip install --quiet --disable-pip-version-check $(EDITABLE) . || { rm -rf $(VENV); \
	  echo "feedgen-dw: installing into $(VENV) failed (see above); nothing kept" >&2; exit 1; }
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(BIN)/pip install --quiet --disable-pip-version-check $(EDITABLE) '.[dev]' || { \
	  echo "feedgen-dw: installing the test tools failed (see above); 'make run' still works" >&2; \
	  exit 1; }
	touch $@

# the main job: the daemon polls every feed of the config and serves the feeds at
# http://$(HOST):$(PORT)/ until Ctrl-C
run: install
	$(BIN)/feedgen-dw daemon --config $(CONFIG) --serve --host $(HOST) --port $(PORT)

# one poll of every feed, then exit (what cron runs)
poll: install
	@$(BIN)/feedgen-dw run --config $(CONFIG) || { status=$$?; \
	  echo "feedgen-dw run failed (exit $$status); offline? 'make demo' replays a live day locally" >&2; \
	  exit $$status; }

# a live day of our own replayed through a local server into demo/public, then served
# with the replayed article at http://$(HOST):$(PORT)/ until Ctrl-C
demo: install
	$(BIN)/python -m feedgen_dw.demo demo --host $(HOST) --port $(PORT)

test: install-dev
	$(BIN)/pytest -q

# SIGKILL during 200 polls at random points; `make test` runs a 20-kill version
crash-test: install-dev
	FEEDGEN_DW_CRASH_TRIALS=200 $(BIN)/pytest -q -s tests/faults/test_kill.py

# the benchmark suite (under 5 minutes; BENCH_ARGS=--quick for fewer rounds); it installs
# matplotlib for the plot and urlwatch, in a venv of its own, to compare against
bench: install-dev
	$(BIN)/pip install --quiet --disable-pip-version-check $(EDITABLE) '.[bench]'
	test -x bench/.urlwatch/bin/urlwatch || { $(PYTHON) -m venv bench/.urlwatch && \
	  bench/.urlwatch/bin/pip install --quiet --disable-pip-version-check 'urlwatch==2.29'; } || true
	$(BIN)/python -m compileall -q feedgen_dw >/dev/null  # as installed: no compiling per run
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/pg_nodes.py --seconds 10

# one daemon on 1,000 to 10,000 feeds at a 1-minute interval, against a local page server
# (about 30 minutes; SIZES=1000,2000 for fewer); writes docs/benchmark-feeds.png
SIZES ?= 1000,2000,5000,10000
bench-scale: install-dev
	$(BIN)/pip install --quiet --disable-pip-version-check $(EDITABLE) '.[bench]'
	$(BIN)/python -m compileall -q feedgen_dw >/dev/null
	$(BIN)/python bench/scale.py --sizes $(SIZES) $(SCALE_ARGS)

lint: install-dev
	$(BIN)/ruff check feedgen_dw tests
	$(BIN)/mypy feedgen_dw

clean:
	rm -rf $(VENV) demo state public .pytest_cache .mypy_cache .ruff_cache .hypothesis
