# feedgen-dw: `make run` polls the shipped config once, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config.yaml

.PHONY: install run poll test crash-test bench lint demo clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# the main job: the daemon polls every feed of the shipped config and serves the feeds
# at http://127.0.0.1:8080/ until Ctrl-C
run: install
	$(BIN)/feedgen-dw daemon --config $(CONFIG) --serve

# one poll of every feed, then exit (what cron runs)
poll: install
	@$(BIN)/feedgen-dw run --config $(CONFIG) || { status=$$?; \
	  echo "feedgen-dw run failed (exit $$status); offline? 'make demo' replays a live day locally" >&2; \
	  exit $$status; }

test: install
	$(BIN)/pytest -q

# SIGKILL during 200 polls at random points; `make test` runs a 20-kill version
crash-test: install
	FEEDGEN_DW_CRASH_TRIALS=200 $(BIN)/pytest -q -s tests/faults/test_kill.py

# the benchmark suite (under 5 minutes; BENCH_ARGS=--quick for fewer rounds); it installs
# matplotlib for the plot and urlwatch, in a venv of its own, to compare against
bench: install
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[bench]'
	test -x bench/.urlwatch/bin/urlwatch || { $(PYTHON) -m venv bench/.urlwatch && \
	  bench/.urlwatch/bin/pip install --quiet --disable-pip-version-check 'urlwatch==2.29'; } || true
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check feedgen_dw tests
	$(BIN)/mypy feedgen_dw

demo: install
	$(BIN)/python -m feedgen_dw.demo demo

clean:
	rm -rf $(VENV) demo state public .pytest_cache .mypy_cache .ruff_cache .hypothesis
