#!/usr/bin/env bash
# Minimal Debian userlands (root filesystems) for testing the wheels on another architecture
# (arm64 under qemu user-mode emulation) and on an older glibc (bullseye: 2.31) than the
# build machine's (bookworm: 2.36).
#
# Usage:
#   userland.sh SUITE ARCH DIR
#       SUITE bookworm|bullseye, ARCH amd64|arm64. Creates DIR (idempotent: DIR/.userland-stamp
#       says it is done; a second call returns at once). Debian minbase, no recommends, plus
#       $USERLAND_PACKAGES (default python3,python3-venv), docs/man/locales and the apt caches
#       removed. Downloads come from $DEBIAN_MIRROR (default http://deb.debian.org/debian) only.
#       Built in DIR.partial and renamed at the end, so an interrupted run leaves no half DIR.
#       Needs root; installs debootstrap (and qemu-user-static + binfmt-support for a foreign
#       ARCH) on the host if missing, and mounts binfmt_misc if it is not.
#       $USERLAND_MODE: debootstrap (default: a real installed system, dpkg database, apt-get
#       works inside; a foreign ARCH's second stage runs emulated: 4-7 min for arm64) or
#       extract (debootstrap --foreign downloads, then every .deb is unpacked with dpkg-deb,
#       no maintainer scripts: ~30 s, enough to run python3, pip/venv and .so files, but no
#       dpkg database). extract is used anyway for a foreign ARCH when binfmt_misc is unusable.
#   userland.sh site DIR SITE PKG...
#       pip-installs PKG... (names, requirement specifiers or wheel files) into SITE for DIR's
#       Python and architecture, on the host (no emulation): `pip install --target SITE
#       --only-binary=:all: --platform manylinux_2_<glibc of DIR..17>_<arch> ...`.
#       Use SITE as PYTHONPATH for DIR's python3 (`run --bind SITE --env PYTHONPATH=SITE`).
#       $PYTHON picks the host Python whose pip runs (default python3).
#   userland.sh run DIR [--bind PATH]... [--env K=V]... [--] CMD [ARG...]
#       Runs CMD as root in DIR: chroot inside a private mount namespace (unshare), with /proc
#       mounted and each PATH bind-mounted at the same path; all mounts vanish when CMD exits.
#       The host network is shared (a server on the host's 127.0.0.1 is reachable). Environment
#       is reset to PATH, HOME, LANG plus --env. A foreign ARCH runs through binfmt_misc; where
#       binfmt is unusable (or USERLAND_RUN=qemu) it runs `qemu-<arch>-static -L DIR DIR/CMD`
#       instead: no chroot, host paths are visible, --bind is ignored, and a subprocess the
#       program starts is looked up on the host (e.g. /bin/uname runs the host's x86-64 one).
#
# Other ways to run things in a userland (all verified on the build machine):
#   QEMU_LD_PREFIX=DIR DIR/usr/bin/python3 ...        (arm64, via binfmt; host paths visible)
#   qemu-aarch64-static -L DIR DIR/usr/bin/python3 ... (arm64, no binfmt needed)
#   L=DIR/usr/lib/x86_64-linux-gnu; $L/ld-linux-x86-64.so.2 --library-path $L EXE ...
#       (amd64: runs EXE on DIR's glibc without chroot; beware that a library missing from DIR
#       is then found in the host's /etc/ld.so.cache, so `run` (chroot) is the strict check.
#       In bullseye DIR/lib64/ld-linux-x86-64.so.2 is an absolute symlink into the host.)
set -euo pipefail

MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES=${USERLAND_PACKAGES:-python3,python3-venv}
STAMP=.userland-stamp

die() { echo "userland.sh: $*" >&2; exit 1; }
log() { echo "userland.sh: $*" >&2; }

qemu_arch() { case "$1" in arm64) echo aarch64 ;; amd64) echo x86_64 ;; *) die "unknown ARCH $1" ;; esac; }
host_arch() { dpkg --print-architecture; }

apt_updated=
ensure_host_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing on the host: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  [ -n "$apt_updated" ] || { apt-get update -qq; apt_updated=1; }
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# True when the kernel runs ARCH's ELF files through qemu-ARCH-static, also inside a chroot
# (the F flag: the interpreter is opened when registered, so it need not exist in DIR).
binfmt_ready() {
  local qa entry=/proc/sys/fs/binfmt_misc/qemu-$1
  qa=$1
  if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || return 1
  fi
  [ -e "$entry" ] || update-binfmts --import "qemu-$qa" >/dev/null 2>&1 || true
  [ -e "$entry" ] || update-binfmts --enable "qemu-$qa" >/dev/null 2>&1 || true
  [ -e "$entry" ] && grep -qx enabled "$entry" && grep -q '^flags:.*F' "$entry"
}

python_of() { # DIR -> path of the versioned python3 binary inside DIR, e.g. /usr/bin/python3.11
  local f best=
  for f in "$1"/usr/bin/python3.[0-9]*; do
    [[ $(basename "$f") =~ ^python3\.[0-9]+$ ]] && best=$(printf '%s\n' "$best" "$(basename "$f")" | sort -V | tail -1)
  done
  [ -n "$best" ] || die "$1 has no python3"
  echo "/usr/bin/$best"
}
glibc_of() { # DIR -> 2.36
  local f
  for f in "$1"/usr/lib/*-linux-gnu/libc.so.6; do break; done
  [ -e "$f" ] || die "$1 has no glibc"
  # glibc's own version string, e.g. "GNU C Library (Debian GLIBC 2.36-9+deb12u4) stable release version 2.36."
  grep -aoE 'release version [0-9]+\.[0-9]+' "$f" | head -1 | awk '{print $3}'
}

create() {
  local suite=$1 arch=$2 dir=$3 qa want
  case "$suite" in bookworm|bullseye) ;; *) die "SUITE must be bookworm or bullseye, not $suite" ;; esac
  qa=$(qemu_arch "$arch")
  [ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot)"
  dir=$(realpath -m "$dir")
  want="$suite $arch $PACKAGES"
  if [ -f "$dir/$STAMP" ]; then
    [ "$(head -1 "$dir/$STAMP")" = "$want" ] || die "$dir holds another userland: $(head -1 "$dir/$STAMP")"
    log "$dir: already there ($want)"
    return 0
  fi
  [ ! -e "$dir" ] || [ -z "$(ls -A "$dir")" ] || die "$dir exists, is not empty and has no $STAMP: remove it first"

  local start=$SECONDS foreign='' mode=debootstrap
  local tools=(debootstrap)
  [ "$arch" != "$(host_arch)" ] && foreign=1 && tools+=(qemu-user-static binfmt-support)
  ensure_host_packages "${tools[@]}"
  case "${USERLAND_MODE:-debootstrap}" in
    debootstrap) ;;
    extract) mode=extract ;;
    *) die "USERLAND_MODE must be debootstrap or extract" ;;
  esac
  if [ -n "$foreign" ] && [ "$mode" = debootstrap ] && ! binfmt_ready "$qa"; then
    mode=extract
    log "binfmt_misc for $qa unusable: extracting packages only (run with qemu-$qa-static -L)"
  fi

  local tmp="$dir.partial"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  local opts=(--arch="$arch" --variant=minbase --include="$PACKAGES")
  if [ "$mode" = debootstrap ]; then
    debootstrap "${opts[@]}" "$suite" "$tmp" "$MIRROR" >"$tmp.log" 2>&1 ||
      { tail -20 "$tmp.log" >&2; die "debootstrap failed (log: $tmp.log)"; }
  else
    # First stage only: downloads every package, extracts the essential ones, merges /usr. The
    # rest (python3 ...) is unpacked here without maintainer scripts: enough for qemu -L.
    debootstrap --foreign "${opts[@]}" "$suite" "$tmp" "$MIRROR" >"$tmp.log" 2>&1 ||
      { tail -20 "$tmp.log" >&2; die "debootstrap --foreign failed (log: $tmp.log)"; }
    local deb
    for deb in "$tmp"/var/cache/apt/archives/*.deb; do
      dpkg-deb --fsys-tarfile "$deb" | tar -C "$tmp" --keep-directory-symlink -xf -
    done
    [ -e "$tmp/usr/bin/python3" ] || ln -s "$(basename "$(python_of "$tmp")")" "$tmp/usr/bin/python3"
  fi
  rm -f "$tmp.log"

  # Small: no package caches, docs, manuals or translations (also for later apt-get installs).
  rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/cache/apt/*.bin "$tmp"/var/lib/apt/lists/* \
    "$tmp"/usr/share/doc/* "$tmp"/usr/share/man/* "$tmp"/usr/share/info/* "$tmp"/usr/share/locale/* \
    "$tmp"/debootstrap
  mkdir -p "$tmp/etc/dpkg/dpkg.cfg.d"
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-exclude /usr/share/man/*' \
    'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' >"$tmp/etc/dpkg/dpkg.cfg.d/01-small"
  # pip inside the userland must trust what the host trusts (the host may add a proxy's CA).
  local ca=${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}
  if [ -f "$ca" ]; then
    mkdir -p "$tmp/etc/ssl/certs"
    cp "$ca" "$tmp/etc/ssl/certs/host-ca-bundle.crt"
    printf '[global]\ncert = /etc/ssl/certs/host-ca-bundle.crt\n' >"$tmp/etc/pip.conf"
  fi
  cp -L /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true

  local py glibc secs size
  py=$(python_of "$tmp")
  glibc=$(glibc_of "$tmp")
  secs=$((SECONDS - start))
  size=$(du -sh "$tmp" | cut -f1)
  {
    echo "$want"
    echo "mode=$mode python=$py glibc=$glibc seconds=$secs size=$size created=$(date -u +%FT%TZ)"
  } >"$tmp/$STAMP"
  rmdir "$dir" 2>/dev/null || true
  mv "$tmp" "$dir"
  log "$dir: $suite/$arch ($mode) python=$py glibc=$glibc in ${secs}s, $size"
}

site() {
  [ $# -ge 3 ] || die "usage: userland.sh site DIR SITE PKG..."
  local dir=$1 site=$2 py ver glibc arch qa minor m plats=()
  shift 2
  [ -f "$dir/$STAMP" ] || die "$dir is not a userland (no $STAMP)"
  arch=$(head -1 "$dir/$STAMP" | awk '{print $2}')
  qa=$(qemu_arch "$arch")
  py=$(python_of "$dir")
  ver=${py#/usr/bin/python}
  glibc=$(glibc_of "$dir")
  minor=${glibc#2.}
  for ((m = minor; m >= 17; m--)); do plats+=(--platform "manylinux_2_${m}_$qa"); done
  plats+=(--platform "manylinux2014_$qa")
  if [ "$qa" = x86_64 ]; then
    for ((m = 16; m >= 5; m--)); do plats+=(--platform "manylinux_2_${m}_$qa"); done
    plats+=(--platform manylinux2010_x86_64 --platform manylinux1_x86_64)
  fi
  "${PYTHON:-python3}" -m pip install -q --upgrade --target "$site" --only-binary=:all: \
    --implementation cp --python-version "$ver" --abi "cp${ver/./}" --abi abi3 --abi none \
    "${plats[@]}" "$@"
}

run() {
  [ $# -ge 2 ] || die "usage: userland.sh run DIR [--bind PATH]... [--env K=V]... [--] CMD [ARG...]"
  local dir binds=() envs=() arch qa
  dir=$(realpath "$1")
  shift
  while [ $# -gt 0 ]; do
    case "$1" in
      --bind) binds+=("$(realpath "$2")"); shift 2 ;;
      --env) envs+=("$2"); shift 2 ;;
      --) shift; break ;;
      *) break ;;
    esac
  done
  [ $# -ge 1 ] || die "run: no command"
  [ -f "$dir/$STAMP" ] || die "$dir is not a userland (no $STAMP)"
  arch=$(head -1 "$dir/$STAMP" | awk '{print $2}')
  qa=$(qemu_arch "$arch")
  local base_env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8)
  if [ "$arch" != "$(host_arch)" ] && { [ "${USERLAND_RUN:-}" = qemu ] || ! binfmt_ready "$qa"; }; then
    local cmd=$1
    shift
    case "$cmd" in /*) ;; *) cmd=/usr/bin/$cmd ;; esac
    exec env -i "${base_env[@]}" "${envs[@]}" "qemu-$qa-static" -L "$dir" "$dir$cmd" "$@"
  fi
  exec unshare --mount --propagation private -- "$0" _chroot "$dir" "${#binds[@]}" "${binds[@]}" \
    "${#envs[@]}" "${envs[@]}" "${base_env[@]}" -- "$@"
}

chroot_inner() { # in the private mount namespace: DIR NB BIND... NE ENV... BASE_ENV... -- CMD...
  local dir=$1 n p envs=()
  shift
  n=$1; shift
  for ((; n > 0; n--)); do
    p=$1; shift
    if [ -d "$p" ]; then mkdir -p "$dir$p"; else mkdir -p "$(dirname "$dir$p")"; : >>"$dir$p"; fi
    mount --bind "$p" "$dir$p"
  done
  n=$1; shift
  for ((; n > 0; n--)); do envs+=("$1"); shift; done
  while [ "$1" != -- ]; do envs=("$1" "${envs[@]}"); shift; done
  shift
  mount -t proc proc "$dir/proc"
  # A private /dev/pts, so apt and dpkg inside can open a pseudo-terminal (harmless if refused).
  mount -t devpts -o newinstance,ptmxmode=0666 devpts "$dir/dev/pts" 2>/dev/null || true
  exec chroot "$dir" /usr/bin/env -i "${envs[@]}" "$@"
}

case "${1:-}" in
  site) shift; site "$@" ;;
  run) shift; run "$@" ;;
  _chroot) shift; chroot_inner "$@" ;;
  bookworm|bullseye)
    [ $# -eq 3 ] || die "usage: userland.sh SUITE ARCH DIR | site DIR SITE PKG... | run DIR ... CMD"
    create "$@" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
