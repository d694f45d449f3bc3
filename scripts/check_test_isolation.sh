#!/usr/bin/env bash
# Runs every unit test case of a build alone, and every unit test binary once in a random
# order, to show that no test case depends on another having run first (a fixture left
# behind, a registry filled by an earlier case). Slow (minutes): kept out of ctest.
#   scripts/check_test_isolation.sh [build dir, default build/release] [binary name filter]
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
filter=${2:-}
failed=0
for bin in "$build"/tests/weft-*-tests; do
  [[ -x "$bin" && "$(basename "$bin")" == *"$filter"* ]] || continue
  name=$(basename "$bin")
  if ! out=$("$bin" --order-by=rand 2>&1); then
    echo "FAIL $name in random order:"; echo "$out" | grep -E "rand-seed|ERROR|FATAL" | head -20
    failed=1
  fi
  # -ltc prints one test case name per line between doctest's "[doctest]" and "====" lines.
  mapfile -t cases < <("$bin" -ltc --no-version 2>/dev/null | grep -v -e '^\[doctest\]' -e '^=====')
  count=0
  for tc in "${cases[@]}"; do
    [ -n "$tc" ] || continue
    escaped=${tc//\\/\\\\}
    escaped=${escaped//,/\\,}
    out=$("$bin" "--test-case=$escaped" 2>&1)
    rc=$?
    if [ $rc -ne 0 ] || ! grep -q "test cases: *[1-9][0-9]* | *[1-9][0-9]* passed" <<<"$out"; then
      echo "FAIL $name alone: $tc"; echo "$out" | tail -20
      failed=1
    fi
    count=$((count + 1))
  done
  echo "$name: ran $count test cases alone, and all in random order"
done
exit $failed
