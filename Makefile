# The verbs a newcomer needs. Everything installs what it is missing first.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
PY := $(VENV)/bin/python

.PHONY: all build test test-sanitize test-cpp test-python demo bench wheel lint fmt clean deps help

all: build

help:
	@echo "make demo    sync the emulator's demo base into ./lakehouse, change it, sync again"
	@echo "make test    build everything and run every test (C++ and Python)"
	@echo "make test-sanitize  the C++ tests built with ASan and UBSan (build-sanitize/)"
	@echo "make bench   run the benchmarks and print ratios (see benchmarks/RESULTS.md)"
	@echo "make lint    clang-format check, clang-tidy and ruff"
	@echo "make fmt     format C++ and Python sources"
	@echo "make clean   remove build outputs and the virtual environment"

$(BUILD_DIR)/.system-deps: scripts/install-system-deps.sh
	./scripts/install-system-deps.sh
	@mkdir -p $(BUILD_DIR) && touch $@

$(VENV)/.installed: requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

deps: $(BUILD_DIR)/.system-deps $(VENV)/.installed

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null
	cmake --build $(BUILD_DIR)
	cmake --install $(BUILD_DIR) --prefix $(VENV) >/dev/null

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j2
	$(PY) -m pytest

# The engine's and the emulator's C++ tests under AddressSanitizer and UndefinedBehaviorSanitizer
# (a Debug build of its own); any report fails the run.
test-sanitize: $(BUILD_DIR)/.system-deps
	cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DAIRTABLE_LAKEFLOW_SANITIZE=ON >/dev/null
	cmake --build build-sanitize
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir build-sanitize --output-on-failure -j2

demo: build
	$(PY) -m airtable_lakeflow.demo

bench: build
	$(PY) benchmarks/emulator_throughput.py
	BUILD_DIR=$(BUILD_DIR) $(PY) benchmarks/engine_bench.py
	$(PY) benchmarks/sync_bench.py
	$(PY) benchmarks/spark_bench.py

wheel: deps
	WHEEL_BUILD_DIR=$(BUILD_DIR)-wheel PYTHON=$(PY) ./scripts/build-wheel.sh dist

lint: build
	clang-format --dry-run --Werror $$(git ls-files '*.cpp' '*.hpp')
	git ls-files 'emulator/src/*.cpp' 'src/*.cpp' | xargs -P 2 -n 6 clang-tidy -p $(BUILD_DIR) --quiet
	$(VENV)/bin/ruff check python tests benchmarks
	$(VENV)/bin/ruff format --check python tests benchmarks

fmt: deps
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')
	$(VENV)/bin/ruff format python tests benchmarks

clean:
	rm -rf $(BUILD_DIR) build-sanitize $(VENV) dist
