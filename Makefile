# LingNav: `make demo` runs the closed-loop demo, `make test` runs the whole suite: once with
# the real ROS libraries where installed (launch, launch_ros, message_filters...), then the
# tests marked fallback_path again with LINGNAV_FORCE_FALLBACKS=1 (see README, Tests).
# Both set up .venv first (idempotent, quick on a ready tree).
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup test lint demo eval bench clean

setup:
	@bash scripts/setup_env.sh

lint: setup
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache

test: setup
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest test
	LINGNAV_FORCE_FALLBACKS=1 $(PY) -m pytest test -m fallback_path

demo: setup
	$(PY) -m lingnav_ros.tools.demo

eval: setup
	$(PY) -m lingnav_ros.tools.evaluate scenarios --repeat 1

bench: setup
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf build install log runs
