#!/usr/bin/env bash
# Static, -fPIC dependencies of the portable engine (manylinux_2_28), compiled by Zig for one
# architecture, from Debian bookworm's source packages (the upstream orig tarballs):
#   scripts/portable/build-deps.sh x86_64|aarch64 PREFIX [engine|all]   (engine: only what the
#   engine links, for a wheel; all, the default: also GoogleTest, Google Benchmark and the Boost
#   headers the C++ tests and benchmarks need)
# PREFIX gets lib/ (only .a), include/, lib/cmake + lib/pkgconfig; next to it (PREFIX/..):
# downloads/ (sources), zig-cache/, build-<arch>/ (build trees). A library already built for
# that architecture and version is skipped (PREFIX/.stamps/<name>-<version>).
# For aarch64, PREFIX/qemu-ld-prefix is an aarch64 glibc (Debian's libc6-arm64-cross), the
# root qemu-aarch64 -L needs to run the tests; cmake/zig-toolchain.cmake finds it there.
# Root on Debian bookworm (apt-get source/download). $PYTHON: default <repo>/.venv/bin/python,
# gets ziglang==$ZIG_VERSION if it lacks it. $JOBS: default 2.
set -euo pipefail

ZIG_VERSION=0.17.1
GLIBC=2.28

usage="usage: build-deps.sh x86_64|aarch64 PREFIX [engine|all]"
arch=${1:?$usage}
prefix=$(realpath -m "${2:?$usage}")
# engine: what the engine links (a wheel); all: also what the C++ tests and benchmarks need.
what=${3:-all}
case "$what" in engine | all) ;; *) echo "$usage" >&2; exit 2 ;; esac
case "$arch" in
  x86_64) openssl_target=linux-x86_64 ;;
  aarch64) openssl_target=linux-aarch64 ;;
  *) echo "unknown architecture: $arch (x86_64 or aarch64)" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/../.." && pwd)
python=$(realpath -ms "${PYTHON:-$root/.venv/bin/python}")
jobs=${JOBS:-2}
target=$arch-linux-gnu.$GLIBC
area=$(dirname "$prefix")
dl=$area/downloads
build=$area/build-$arch
export ZIG_GLOBAL_CACHE_DIR=$area/zig-cache ZIG_LOCAL_CACHE_DIR=$area/zig-cache
mkdir -p "$prefix/lib" "$prefix/include" "$prefix/.stamps" "$dl" "$build" "$ZIG_GLOBAL_CACHE_DIR"
log=$build/logs
mkdir -p "$log"

# --- zig, pinned ---------------------------------------------------------------------------
if [ "$("$python" -m ziglang version 2>/dev/null)" != "$ZIG_VERSION" ]; then
  echo "== installing ziglang==$ZIG_VERSION into $python"
  "$python" -m pip install -q "ziglang==$ZIG_VERSION"
fi
zig=$("$python" -c 'import ziglang, os; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')

# Wrappers for the configure/Makefile builds (the CMake ones use cmake/zig-toolchain.cmake,
# which writes the same wrappers).
wrap=$build/zig-wrappers
mkdir -p "$wrap"
for tool in "zig-cc|cc -target $target -mcpu=baseline" "zig-c++|c++ -target $target -mcpu=baseline" \
            "zig-ar|ar" "zig-ranlib|ranlib"; do
  printf '#!/bin/sh\nexport ZIG_GLOBAL_CACHE_DIR=%s ZIG_LOCAL_CACHE_DIR=%s\nexec %s %s "$@"\n' \
    "'$ZIG_GLOBAL_CACHE_DIR'" "'$ZIG_GLOBAL_CACHE_DIR'" "'$zig'" "${tool#*|}" >"$wrap/${tool%%|*}"
  chmod +x "$wrap/${tool%%|*}"
done

# --- sources: Debian bookworm source packages (orig tarballs) --------------------------------
ensure_deb_src() {
  if ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "== adding deb-src for bookworm"
    cat >/etc/apt/sources.list.d/src.sources <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    apt-get update -qq
  fi
}
# orig <source package> <tarball glob>: prints the path of the orig tarball, downloading it.
orig() {
  local f
  f=$(ls "$dl"/$2 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$f" ]; then
    ensure_deb_src
    (cd "$dl" && apt-get source -qq --download-only "$1" >/dev/null 2>"$dl/$1.apt.log") ||
      { cat "$dl/$1.apt.log" >&2; exit 1; }
    f=$(ls "$dl"/$2 | sort -V | tail -1)
  fi
  echo "$f"
}
# unpack <tarball> <dir>: a fresh source tree
unpack() {
  rm -rf "$2" && mkdir -p "$2" && tar -xf "$1" -C "$2" --strip-components=1
}
# version from an orig tarball name: pkg_1.2.3(.dfsg).orig.tar.*
version_of() { basename "$1" | sed -E 's/^[^_]+_([^-]+)\.orig\.tar\..*$/\1/; s/\.dfsg$//'; }

timings=()
# step <name> <version> <function>: runs it unless stamped, timed, log in build-<arch>/logs
step() {
  local name=$1 version=$2 fn=$3 stamp="$prefix/.stamps/$1-$2"
  if [ -e "$stamp" ]; then
    echo "[$arch] $name $version: cached"
    return
  fi
  local t0=$SECONDS
  printf '[%s] %s %s: building ... ' "$arch" "$name" "$version"
  # A subshell outside any condition, so that set -e holds inside the function.
  local rc=0
  set +e
  (set -e; "$fn" "$version") >"$log/$name.log" 2>&1
  rc=$?
  set -e
  if [ $rc -ne 0 ]; then
    echo "FAILED (log: $log/$name.log)"; tail -30 "$log/$name.log" >&2; exit 1
  fi
  local dt=$((SECONDS - t0))
  echo "done in ${dt}s"
  timings+=("$name ${dt}s")
  touch "$stamp"
}

cmake_dep() { # cmake_dep <src> <bld> <cmake args...>: configure, build, install with the toolchain
  local src=$1 bld=$2; shift 2
  rm -rf "$bld"
  cmake -S "$src" -B "$bld" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$root/cmake/zig-toolchain.cmake" -DALF_ZIG_TARGET="$target" \
    -DALF_DEPS_PREFIX="$prefix" -DALF_ZIG="$zig" -DALF_ZIG_CACHE_DIR="$ZIG_GLOBAL_CACHE_DIR" \
    -DALF_ZIG_WRAPPER_DIR="$wrap" -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=OFF "$@"
  cmake --build "$bld" -j "$jobs"
  cmake --install "$bld"
}

# --- the libraries ----------------------------------------------------------------------------
zlib_tgz=$(orig zlib 'zlib_*.orig.tar.*')
build_zlib() {
  unpack "$zlib_tgz" "$build/zlib"
  cd "$build/zlib"
  CC="$wrap/zig-cc" AR="$wrap/zig-ar" RANLIB="$wrap/zig-ranlib" CFLAGS="-O2 -fPIC" \
    ./configure --static --prefix="$prefix" --libdir="$prefix/lib"
  make -j"$jobs" libz.a
  make install
  rm -f "$prefix"/lib/libz.so*
}
step zlib "$(version_of "$zlib_tgz")" build_zlib

openssl_tgz=$(orig openssl 'openssl_*.orig.tar.gz')
build_openssl() {
  unpack "$openssl_tgz" "$build/openssl"
  cd "$build/openssl"
  # OPENSSLDIR is where OpenSSL's default CA file/dir are (cert.pem, certs/); /etc/ssl is right
  # for Debian/Ubuntu (certs/ hashed dir), Alpine, SUSE; SSL_CERT_FILE / SSL_CERT_DIR override.
  CC="$wrap/zig-cc" AR="$wrap/zig-ar" RANLIB="$wrap/zig-ranlib" \
    ./Configure "$openssl_target" no-shared no-tests no-module no-dso no-engine \
      --prefix="$prefix" --libdir=lib --openssldir=/etc/ssl -fPIC -O2
  make -j"$jobs" build_libs
  make install_dev
}
step openssl "$(version_of "$openssl_tgz")" build_openssl

nghttp2_tgz=$(orig nghttp2 'nghttp2_*.orig.tar.*')
build_nghttp2() {
  unpack "$nghttp2_tgz" "$build/nghttp2-src"
  cmake_dep "$build/nghttp2-src" "$build/nghttp2" -DENABLE_LIB_ONLY=ON -DENABLE_STATIC_LIB=ON \
    -DENABLE_SHARED_LIB=OFF -DENABLE_DOC=OFF -DENABLE_EXAMPLES=OFF -DWITH_LIBXML2=OFF \
    -DWITH_JEMALLOC=OFF
}
step nghttp2 "$(version_of "$nghttp2_tgz")" build_nghttp2

curl_tgz=$(orig curl 'curl_*.orig.tar.gz')
build_curl() {
  unpack "$curl_tgz" "$build/curl-src"
  # HTTP(S) only; no CA path baked in from the build host (CURL_CA_BUNDLE/PATH=none) but
  # CURL_CA_FALLBACK: OpenSSL's defaults (OPENSSLDIR /etc/ssl, or SSL_CERT_FILE/SSL_CERT_DIR).
  # HAVE_POLL_FINE: its run-test is skipped when cross-compiling; Linux's poll() is fine.
  cmake_dep "$build/curl-src" "$build/curl" -DBUILD_CURL_EXE=OFF -DBUILD_TESTING=OFF \
    -DENABLE_MANUAL=OFF -DHTTP_ONLY=ON -DCURL_DISABLE_LDAP=ON -DCURL_DISABLE_LDAPS=ON \
    -DCURL_USE_OPENSSL=ON -DUSE_NGHTTP2=ON -DCURL_ZLIB=ON -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF \
    -DUSE_LIBIDN2=OFF -DCURL_USE_LIBSSH2=OFF -DCURL_USE_LIBSSH=OFF -DCURL_USE_GSSAPI=OFF \
    -DUSE_LIBRTMP=OFF -DUSE_NGTCP2=OFF -DUSE_QUICHE=OFF -DUSE_MSH3=OFF -DCURL_DISABLE_NTLM=ON \
    -DCURL_CA_BUNDLE=none -DCURL_CA_PATH=none -DCURL_CA_FALLBACK=ON -DHAVE_POLL_FINE=1 \
    -DENABLE_THREADED_RESOLVER=ON -DOPENSSL_USE_STATIC_LIBS=ON
}
step curl "$(version_of "$curl_tgz")" build_curl

simdjson_tgz=$(orig simdjson 'simdjson_*.orig.tar.*')
build_simdjson() {
  unpack "$simdjson_tgz" "$build/simdjson-src"
  cmake_dep "$build/simdjson-src" "$build/simdjson" -DSIMDJSON_DEVELOPER_MODE=OFF \
    -DSIMDJSON_ENABLE_THREADS=ON
}
step simdjson "$(version_of "$simdjson_tgz")" build_simdjson

nlohmann_tgz=$(orig nlohmann-json3 'nlohmann-json3_*.orig.tar.*')
build_nlohmann_json() {
  unpack "$nlohmann_tgz" "$build/nlohmann-json-src"
  cmake_dep "$build/nlohmann-json-src" "$build/nlohmann-json" -DJSON_BuildTests=OFF \
    -DJSON_Install=ON -DJSON_MultipleHeaders=ON
}
step nlohmann_json "$(version_of "$nlohmann_tgz")" build_nlohmann_json

if [ "$what" = engine ]; then
  [ ${#timings[@]} -gt 0 ] && echo "[$arch] built: ${timings[*]} (total $SECONDS s)"
  exit 0
fi

gtest_tgz=$(orig googletest 'googletest_*.orig.tar.*')
build_googletest() {
  unpack "$gtest_tgz" "$build/googletest-src"
  cmake_dep "$build/googletest-src" "$build/googletest" -DBUILD_GMOCK=ON -DINSTALL_GTEST=ON
}
step googletest "$(version_of "$gtest_tgz")" build_googletest

benchmark_tgz=$(orig benchmark 'benchmark_*.orig.tar.*')
build_benchmark() {
  unpack "$benchmark_tgz" "$build/benchmark-src"
  cmake_dep "$build/benchmark-src" "$build/benchmark" -DBENCHMARK_ENABLE_TESTING=OFF \
    -DBENCHMARK_ENABLE_GTEST_TESTS=OFF -DBENCHMARK_ENABLE_WERROR=OFF -DBENCHMARK_ENABLE_LIBPFM=OFF \
    -DBENCHMARK_ENABLE_INSTALL=ON -DBENCHMARK_INSTALL_DOCS=OFF -DCMAKE_CXX_FLAGS=-Wno-c2y-extensions
}
step benchmark "$(version_of "$benchmark_tgz")" build_benchmark

# Boost headers (Beast/Asio, for the emulator of the C++ tests): arch-independent headers of
# Debian's libboost1.74-dev, linked into the prefix (no Boost library is compiled).
build_boost_headers() {
  local deb
  deb=$(ls "$dl"/libboost1.74-dev_*.deb 2>/dev/null | tail -1 || true)
  if [ -z "$deb" ]; then
    (cd "$dl" && apt-get download -qq libboost1.74-dev)
    deb=$(ls "$dl"/libboost1.74-dev_*.deb | tail -1)
  fi
  rm -rf "$area/boost-headers" && mkdir -p "$area/boost-headers"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$area/boost-headers" ./usr/include/boost
  ln -sfn "$area/boost-headers/usr/include/boost" "$prefix/include/boost"
}
step boost_headers 1.74.0 build_boost_headers

# qemu-user -L root for aarch64 executables: Debian's libc6-arm64-cross (arch all, ~1 MB).
if [ "$arch" = aarch64 ]; then
  build_qemu_ld_prefix() {
    local deb
    deb=$(ls "$dl"/libc6-arm64-cross_*.deb 2>/dev/null | tail -1 || true)
    if [ -z "$deb" ]; then
      (cd "$dl" && apt-get download -qq libc6-arm64-cross)
      deb=$(ls "$dl"/libc6-arm64-cross_*.deb | tail -1)
    fi
    rm -rf "$build/libc6-arm64" "$prefix/qemu-ld-prefix"
    dpkg-deb -x "$deb" "$build/libc6-arm64"
    mv "$build/libc6-arm64/usr/aarch64-linux-gnu" "$prefix/qemu-ld-prefix"
  }
  step qemu_ld_prefix bookworm build_qemu_ld_prefix
  if ! command -v qemu-aarch64 >/dev/null && ! command -v qemu-aarch64-static >/dev/null; then
    echo "[$arch] installing qemu-user (to run the aarch64 tests)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user >/dev/null
  fi
fi

if [ ${#timings[@]} -gt 0 ]; then
  echo "[$arch] built: ${timings[*]} (total $SECONDS s)"
fi
