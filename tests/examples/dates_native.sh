#!/usr/bin/env bash
# Checks OUT/<name>, the native program weft-example-dates (or weft-example-transformer-dates)
# --out OUT wrote (the example's smoke test makes it), one behaviour per call:
#   tests/examples/dates_native.sh OUT NAME answers|empty|unknown|random-bytes
# The behaviours are those runtime/text/NativeSeq2Seq.h documents.
set -euo pipefail
out=$1 name=$2 case=$3
bin=$out/$name
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -x "$bin" ] || { echo "no program $bin" >&2; exit 1; }

case $case in
answers)
  # The same answers as the JIT gave the example for its held-out dates.
  "$bin" < "$out/held_out_dates.txt" > "$work/answers.txt"
  diff "$out/held_out_answers.txt" "$work/answers.txt"
  ;;
empty)
  # Empty lines get empty answers, in place.
  printf '\n25th of March 2003\n\n' | "$bin" > "$work/answers.txt"
  [ "$(wc -l < "$work/answers.txt")" -eq 3 ]
  [ -z "$(sed -n 1p "$work/answers.txt")" ]
  [ -z "$(sed -n 3p "$work/answers.txt")" ]
  ;;
unknown)
  # Characters outside the vocabulary read as <UNK>: one answer, no warning.
  printf '25\xc3\xa9 of M\x01rch 2003\n' | "$bin" > "$work/answers.txt" 2> "$work/err.txt"
  [ "$(wc -l < "$work/answers.txt")" -eq 1 ]
  [ ! -s "$work/err.txt" ]
  ;;
random-bytes)
  # 64 KiB of seeded random bytes, NULs among them, no newline at the end: every line answered.
  python3 -c 'import random, sys
r = random.Random(20261201)
b = bytearray(r.randbytes(65536))
for i in range(0, len(b), 997): b[i] = 0
b[-1] = 0
sys.stdout.buffer.write(b)' > "$work/bytes"
  lines=$(( $(tr -cd '\n' < "$work/bytes" | wc -c) + 1 ))
  "$bin" < "$work/bytes" > "$work/answers.txt" 2> "$work/err.txt"
  [ "$(wc -l < "$work/answers.txt")" -eq "$lines" ]
  ;;
*)
  echo "unknown case $case" >&2
  exit 2
  ;;
esac
echo "$name: $case ok"
