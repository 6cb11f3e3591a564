# The verbs a newcomer needs. Everything installs what it is missing first.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
PY := $(VENV)/bin/python

ARCH ?= x86_64
FUZZ_SECONDS ?= 300
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_OPT ?= -O1 -gline-tables-only

.PHONY: all build test test-sanitize test-aarch64 test-aarch64-cpp fuzz fuzz-build fuzz-ci test-cpp test-python demo bench wheel sdist lint fmt clean deps help

all: build

help:
	@echo "make demo    sync the emulator's demo base into ./lakehouse, change it, sync again"
	@echo "make test    build everything and run every test (C++ and Python)"
	@echo "make test-sanitize  the C++ tests built with ASan and UBSan (build-sanitize/)"
	@echo "make fuzz    every libFuzzer target for FUZZ_SECONDS each (default 300; build-fuzz/)"
	@echo "make bench   run the benchmarks and print ratios (see benchmarks/RESULTS.md)"
	@echo "make wheel   the portable wheel for ARCH (x86_64 or aarch64) in dist/ (docs/install.md)"
	@echo "make sdist   the source distribution in dist/"
	@echo "make test-aarch64  the aarch64 engine's C++ tests and wheel, under qemu"
	@echo "make lint    clang-format check, clang-tidy and ruff"
	@echo "make fmt     format C++ and Python sources"
	@echo "make clean   remove build outputs and the virtual environment"

$(BUILD_DIR)/.system-deps: scripts/install-system-deps.sh
	./scripts/install-system-deps.sh
	@mkdir -p $(BUILD_DIR) && touch $@

# The checkout's package is installed editable without CMake (-Cwheel.cmake=false): `build`
# puts the engine in place. Inplace mode: python/ is on sys.path and imports resolve as
# usual, so databricks/ stays a namespace portion the Lakeflow framework's own merge with.
$(VENV)/.installed: requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e . -Cwheel.cmake=false \
		-Ceditable.mode=inplace
	touch $@

deps: $(BUILD_DIR)/.system-deps $(VENV)/.installed

# Everything: engine, emulator, C++ tests and benchmarks. The engine goes in place
# (python/airtable_lakeflow/_lib, ignored by git) for the checkout's editable package; the
# emulator into .venv/bin.
build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DAIRTABLE_LAKEFLOW_TESTS=ON \
		-DAIRTABLE_LAKEFLOW_BENCHMARKS=ON >/dev/null
	cmake --build $(BUILD_DIR)
	cmake --install $(BUILD_DIR) --component engine --prefix python >/dev/null
	cmake --install $(BUILD_DIR) --component emulator --prefix $(VENV) >/dev/null

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j2
	$(PY) -m pytest

# The engine's and the emulator's C++ tests under AddressSanitizer and UndefinedBehaviorSanitizer
# (a Debug build of its own); any report fails the run.
test-sanitize: $(BUILD_DIR)/.system-deps
	cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DAIRTABLE_LAKEFLOW_SANITIZE=ON \
		-DAIRTABLE_LAKEFLOW_TESTS=ON >/dev/null
	cmake --build build-sanitize
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir build-sanitize --output-on-failure -j2

# libFuzzer targets (fuzz/, clang, ASan + UBSan), each run for FUZZ_SECONDS from a corpus seeded
# from tests/data; crash reproducers land in $(FUZZ_BUILD_DIR)/artifacts/<target>/, one line per
# run in $(FUZZ_BUILD_DIR)/fuzz-log.txt. Any crash fails the run. See docs/testing.md.
fuzz-build: $(BUILD_DIR)/.system-deps
	cmake -S . -B $(FUZZ_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Fuzz -DAIRTABLE_LAKEFLOW_FUZZ=ON \
		-DAIRTABLE_LAKEFLOW_FUZZ_OPT="$(FUZZ_OPT)" -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
	cmake --build $(FUZZ_BUILD_DIR) --target fuzz_targets

fuzz: fuzz-build
	./fuzz/run.sh $(FUZZ_BUILD_DIR) $(FUZZ_SECONDS)

# CI's short run: 20 s per target, in a -O0 build of its own (twice as quick to compile).
fuzz-ci:
	$(MAKE) fuzz FUZZ_SECONDS=20 FUZZ_BUILD_DIR=build-fuzz-ci FUZZ_OPT=-O0

demo: build
	$(PY) -m airtable_lakeflow.demo

bench: build
	$(PY) benchmarks/emulator_throughput.py
	BUILD_DIR=$(BUILD_DIR) $(PY) benchmarks/engine_bench.py
	$(PY) benchmarks/sync_bench.py
	$(PY) benchmarks/spark_bench.py

# manylinux_2_28 wheels, x86_64 or aarch64 (cross-compiled with Zig; docs/install.md).
wheel: deps
	ARCH=$(ARCH) PYTHON=$(PY) ./scripts/build-wheel.sh dist

sdist: deps
	$(PY) -m build --sdist --no-isolation -o dist .

# The aarch64 build under qemu user-mode emulation: the engine's C++ tests (a Zig cross build
# of its own in build-portable/tests-aarch64; CI runs this part), then the aarch64 wheel
# installed for an arm64 Python (tests/python/deploy/test_wheel_aarch64.py, also in `make test`).
test-aarch64: test-aarch64-cpp
	$(PY) -m pytest tests/python/deploy/test_wheel_aarch64.py

test-aarch64-cpp: deps
	./scripts/portable/build-deps.sh aarch64 build-portable/deps-aarch64 all
	cmake -S . -B build-portable/tests-aarch64 -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/zig-toolchain.cmake \
		-DALF_ZIG_TARGET=aarch64-linux-gnu.2.28 -DALF_DEPS_PREFIX=$(CURDIR)/build-portable/deps-aarch64 \
		-DALF_PYTHON=$(CURDIR)/$(PY) -DAIRTABLE_LAKEFLOW_TESTS=ON >/dev/null
	cmake --build build-portable/tests-aarch64
	ctest --test-dir build-portable/tests-aarch64 --output-on-failure -j2

lint: build
	clang-format --dry-run --Werror $$(git ls-files '*.cpp' '*.hpp')
	git ls-files 'emulator/src/*.cpp' 'src/*.cpp' | xargs -P 2 -n 6 clang-tidy -p $(BUILD_DIR) --quiet
	$(VENV)/bin/ruff check python tests benchmarks fuzz
	$(VENV)/bin/ruff format --check python tests benchmarks fuzz

fmt: deps
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')
	$(VENV)/bin/ruff format python tests benchmarks fuzz

clean:
	rm -rf $(BUILD_DIR) build-sanitize $(FUZZ_BUILD_DIR) build-fuzz-ci build-portable $(VENV) dist
