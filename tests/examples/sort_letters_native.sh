#!/usr/bin/env bash
# Checks OUT/sort_letters, the native program weft-example-sort-letters --out OUT wrote (the
# example-sort-letters-smoke test makes it), one behaviour per call:
#   tests/examples/sort_letters_native.sh OUT answers|empty|unknown|long|random-bytes
# The behaviours are those runtime/text/NativeSeq2Seq.h documents.
set -euo pipefail
out=$1 case=$2
bin=$out/sort_letters
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -x "$bin" ] || { echo "no program $bin" >&2; exit 1; }

case $case in
answers)
  # The same answers as the JIT gave the example for its held-out words.
  "$bin" < "$out/held_out_words.txt" > "$work/answers.txt"
  diff "$out/held_out_answers.txt" "$work/answers.txt"
  ;;
empty)
  # Empty lines get empty answers, in place.
  printf '\nab\n\n' | "$bin" > "$work/answers.txt"
  [ "$(wc -l < "$work/answers.txt")" -eq 3 ]
  [ -z "$(sed -n 1p "$work/answers.txt")" ]
  [ -z "$(sed -n 3p "$work/answers.txt")" ]
  printf '\n' | "$bin" | cmp - <(printf '\n')
  ;;
unknown)
  # A character outside the vocabulary reads as <UNK>: one answer, no warning.
  printf 'ab7\xc3\xa9c\n' | "$bin" > "$work/answers.txt" 2> "$work/err.txt"
  [ "$(wc -l < "$work/answers.txt")" -eq 1 ]
  [ ! -s "$work/err.txt" ]
  ;;
long)
  # A word longer than the model reads: a warning naming the line, and the answer for its first
  # letters (the longest held-out word fits, so take the training data's bound from --help).
  max=$("$bin" --help | sed -n 's/.*longer than \([0-9]*\) characters.*/\1/p')
  [ -n "$max" ]
  word=$(head -c $((max + 5)) < /dev/zero | tr '\0' 'q')
  printf '%s\n%s\n' "$word" "${word:0:$max}" | "$bin" > "$work/answers.txt" 2> "$work/err.txt"
  grep -q "line 1 has more than $max characters" "$work/err.txt"
  [ "$(wc -l < "$work/err.txt")" -eq 1 ]
  [ "$(sed -n 1p "$work/answers.txt")" = "$(sed -n 2p "$work/answers.txt")" ]
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
echo "sort_letters: $case ok"
