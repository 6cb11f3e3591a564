#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each, one after another, from the seed corpus (refreshed
# from the golden fixtures) and what earlier runs found. Crash reproducers go to
# BUILD/artifacts/<target>/, one line per run to BUILD/fuzz-log.txt (wall and CPU seconds,
# executions, crashes).
# Exits non-zero if any target found a crash.
#   fuzz/run.sh BUILD SECONDS [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: fuzz/run.sh BUILD SECONDS [TARGET...]}
seconds=${2:?usage: fuzz/run.sh BUILD SECONDS [TARGET...]}
shift 2
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(page_converter capi formula emulator_requests)

python3 fuzz/make_seeds.py "$build/corpus" >/dev/null
declare -A dict=([page_converter]=json [capi]=json [formula]=formula [emulator_requests]=json)
# Formulas arrive in URLs (16,000 characters at most); pages and bodies are bigger.
declare -A max_len=([page_converter]=65536 [capi]=32768 [formula]=16000 [emulator_requests]=32768)

# CPU seconds of this shell's finished children (the fuzzers): user + system, from /proc.
ticks=$(getconf CLK_TCK)
children_cpu() { awk -v t="$ticks" '{printf "%d", ($16 + $17) / t}' "/proc/$$/stat"; }

# Reproducers of crashes, leaks, timeouts and out-of-memory (not libFuzzer's slow-unit notes).
findings() { find "$1" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
  -o -name 'oom-*' \) | wc -l; }

failed=0
for target in "${targets[@]}"; do
  artifacts="$build/artifacts/$target"
  mkdir -p "$artifacts"
  before=$(findings "$artifacts")
  out="$build/fuzz-$target.out"
  started=$(date +%s)
  cpu_before=$(children_cpu)
  status=0
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/fuzz/fuzz_$target" "$build/corpus/$target" \
    -max_total_time="$seconds" -timeout=30 -rss_limit_mb=3072 -max_len="${max_len[$target]}" \
    -dict="fuzz/dicts/${dict[$target]}.dict" -artifact_prefix="$artifacts/" \
    -print_final_stats=1 >"$out" 2>&1 || status=$?
  took=$(($(date +%s) - started))
  cpu=$(($(children_cpu) - cpu_before))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -1)
  crashes=$(($(findings "$artifacts") - before))
  printf '%s target=%s seconds=%s cpu_seconds=%s execs=%s new_crashes=%s exit=%s\n' \
    "$(date -u +%FT%TZ)" "$target" "$took" "$cpu" "${execs:-0}" "$crashes" "$status" \
    | tee -a "$build/fuzz-log.txt"
  if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    failed=1
    grep -E 'ERROR|SUMMARY|invariant|what\(\)|Test unit written' "$out" | head -20 >&2 || true
  fi
done
exit "$failed"
