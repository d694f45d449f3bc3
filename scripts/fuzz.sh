#!/usr/bin/env bash
# Runs every libFuzzer target for a given number of executions and reports crashes:
#   scripts/fuzz.sh [RUNS] [FUZZER...]     (default: 10000000 runs of each fuzzer)
# Builds build/fuzz first (scripts/build.sh fuzz). Each fuzzer runs alone, on one core, at the
# lowest priority, from its seed corpus; inputs it finds go to build/fuzz/deep/<name>-corpus,
# a crashing input to build/fuzz/deep/<name>-crash-*. Exits 1 when any fuzzer crashed.
# WEFT_FUZZ_SECONDS=S caps each fuzzer's time as well (libFuzzer's -max_total_time).
# CI keeps the short runs (ctest -L fuzz); this is the long run whose figures README.md gives.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10000000}
shift || true
declare -A seeds=([parser]=tests/data/corpus [npy]=tests/data/npy [safetensors]=tests/data/safetensors)
fuzzers=("$@")
[ ${#fuzzers[@]} -gt 0 ] || fuzzers=(parser npy safetensors)
for name in "${fuzzers[@]}"; do
  [ -n "${seeds[$name]:-}" ] || { echo "fuzz.sh: unknown fuzzer '$name' (known: ${!seeds[*]})" >&2; exit 2; }
done

targets=()
for name in "${fuzzers[@]}"; do targets+=("weft-$name-fuzzer"); done
nice -n 19 scripts/build.sh fuzz "${targets[@]}"

out=build/fuzz/deep
mkdir -p "$out"
status=0
for name in "${fuzzers[@]}"; do
  work="$out/$name-corpus" log="$out/$name.log"
  rm -rf "$work" "$out/$name"-crash-* && mkdir -p "$work"
  start=$(date +%s)
  rc=0
  nice -n 19 "build/fuzz/tests/fuzz/weft-$name-fuzzer" -runs="$runs" -max_len=4096 \
    ${WEFT_FUZZ_SECONDS:+-max_total_time=$WEFT_FUZZ_SECONDS} \
    -print_final_stats=1 -artifact_prefix="$out/$name-crash-" "$work" "${seeds[$name]}" \
    >"$log" 2>&1 || rc=$?
  secs=$(($(date +%s) - start))
  done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  crashes=$(find "$out" -maxdepth 1 -name "$name-crash-*" | wc -l)
  echo "$name: ${done_runs:-?} executions in ${secs} s, corpus $(find "$work" -type f | wc -l) inputs, $crashes crash(es), exit $rc"
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    status=1
    find "$out" -maxdepth 1 -name "$name-crash-*" -printf '  crash input: %p\n'
    grep -m1 -E 'ERROR|runtime error|SUMMARY' "$log" | sed 's/^/  /' || true
  fi
done
exit $status
