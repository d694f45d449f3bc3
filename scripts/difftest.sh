#!/usr/bin/env bash
# Differential random testing (docs/Testing.md): scripts/difftest.sh N [first_seed]
# Runs the generated programs of seeds first .. first+N-1 on the reference interpreter and on the
# CPU JIT with and without pipelines, and writes every failure, minimized, to
# tests/data/diff-corpus/seed-<S>.wir. A seed that crashes the process is written unminimized
# (failure: crash) and the run goes on with the next seed. Exits 1 when anything failed.
# DIFF_CORPUS_DIR=DIR writes the failures there instead.
set -uo pipefail
cd "$(dirname "$0")/.."
n=${1:?usage: scripts/difftest.sh N [first_seed]}
first=${2:-1}
extra=("${@:3}")
bin=build/release/tests/weft-difftest
scripts/build.sh release weft-difftest >/dev/null || exit 2
corpus=${DIFF_CORPUS_DIR:-tests/data/diff-corpus}
mkdir -p "$corpus"
err=$(mktemp)
trap 'rm -f "$err"' EXIT
end=$((first + n))
status=0
while [ "$first" -lt "$end" ]; do
  "$bin" --seeds $((end - first)) --first "$first" --corpus-dir "$corpus" "${extra[@]}" 2>"$err"
  rc=$?
  [ "$rc" -eq 0 ] && break
  status=1
  [ "$rc" -eq 1 ] && break
  # The process died (a signal, an abort): the last seed it started is the culprit.
  seed=$(grep -o 'running seed [0-9]*' "$err" | tail -1 | awk '{print $3}')
  [ -n "$seed" ] || { cat "$err" >&2; exit 2; }
  echo "seed $seed: CRASH (exit $rc): $(grep -v '^running seed' "$err" | tail -1)"
  {
    echo "// A difftest failure, not minimized: the process crashed (docs/Testing.md)."
    echo "// seed: $seed"
    "$bin" --print "$seed" "${extra[@]}" | head -1
    echo "// inputs: $seed"
    echo "// failure: crash (exit $rc)"
    "$bin" --print "$seed" "${extra[@]}" | tail -n +2
  } >"$corpus/seed-$seed.wir"
  echo "wrote $corpus/seed-$seed.wir"
  first=$((seed + 1))
done
exit "$status"
