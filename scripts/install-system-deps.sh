#!/usr/bin/env bash
# Installs the Debian packages the build needs, if any are missing. Idempotent.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  libboost-dev nlohmann-json3-dev libssl-dev libgtest-dev
  libcurl4-openssl-dev libsimdjson-dev libbenchmark-dev
  clang-format clang-tidy wrk
  # make fuzz: clang with libFuzzer and the sanitizer runtimes (the build itself uses g++)
  clang-14 libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing system packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "error: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
