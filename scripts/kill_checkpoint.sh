#!/usr/bin/env bash
# Kills a training run with SIGKILL at random moments of its checkpoint writes and checks that
# the newest checkpoint always loads and resumes bit-identically:
#   scripts/kill_checkpoint.sh [KILLS] [TRAIN_BINARY] [WORK_DIR]
# (defaults: 100 kills, build/release/tests/weft-checkpoint-train, a fresh temp dir; WORK_DIR is
# emptied first; ctest's checkpoint-kill runs 20). The binary (tests/checkpoint/TrainCheckpointed.cpp) writes a
# checkpoint after every step and resumes from the newest one in its folder.
#   1. A reference run, never stopped, keeps its checkpoint of every step.
#   2. KILLS times: the run resumes, waits until it has loaded, goes on for a random 0-100 ms
#      (nearly all of it inside checkpoint writes: --pause-us sleeps inside each write), and
#      is killed with SIGKILL. Its newest checkpoint must equal the reference's of the same
#      step byte for byte (params, optimizer state, step, RNG state), and the next resume must
#      load it. A run that reaches the last step starts over.
#   3. A last resume runs to the end and must end with the reference's final checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${1:-100}
train=${2:-build/release/tests/weft-checkpoint-train}
work=${3:-$(mktemp -d /tmp/weft-kill-checkpoint.XXXXXX)}
steps=80
export WEFT_NUM_THREADS=1

[ -x "$train" ] || { echo "kill_checkpoint.sh: no training binary '$train' (build it first)" >&2; exit 2; }
rm -rf "$work" && mkdir -p "$work"
ref=$work/reference run=$work/run log=$work/run.log
fail() { echo "kill_checkpoint.sh: $*" >&2; [ -f "$log" ] && sed 's/^/  log: /' "$log" >&2; exit 1; }

"$train" --dir "$ref" --steps $steps --keep 0 >"$work/reference.log" 2>&1 ||
  fail "the reference run failed: $(cat "$work/reference.log")"

# (The folders may not exist yet.)
newest() { { find "$1" -maxdepth 1 -name 'ckpt-*.safetensors' 2>/dev/null || true; } | sort | tail -1; }
temps() { { find "$run" -maxdepth 1 -name '*.tmp.*' 2>/dev/null || true; } | wc -l; }

# A pause without a process: a read that times out on a FIFO nobody writes to.
mkfifo "$work/silence" && exec 4<>"$work/silence"
nap() { read -r -t 0.005 -u 4 _ || true; }
inside=0 finished=0 early=0
for ((i = 1; i <= kills; i++)); do
  before=$(temps)
  "$train" --dir "$run" --steps $steps --keep 3 --pause-us 2000 >"$log" 2>&1 &
  pid=$!
  line=""
  while [[ $line != "start step"* ]] && kill -0 $pid 2>/dev/null; do
    nap
    read -r line <"$log" || true
  done
  sleep "0.$(printf '%03d' $((RANDOM % 100)))"
  kill -KILL $pid 2>/dev/null || true
  rc=0
  wait $pid 2>/dev/null || rc=$? # (no "Killed" line from the shell)
  if [ $rc -ne 137 ]; then
    [ $rc -eq 0 ] || fail "kill $i: the run exited with status $rc instead of being killed"
    finished=$((finished + 1))
  fi
  last=$(newest "$run")
  if [ -z "$last" ]; then
    early=$((early + 1)) # killed before its first checkpoint
    continue
  fi
  cmp -s "$last" "$ref/$(basename "$last")" ||
    fail "kill $i: the newest checkpoint $(basename "$last") differs from the reference's"
  if [ "$(temps)" -gt "$before" ]; then inside=$((inside + 1)); fi
  if [ "$(basename "$last")" = "$(basename "$(newest "$ref")")" ]; then rm -rf "$run"; fi
done

"$train" --dir "$run" --steps $steps --keep 3 >"$log" 2>&1 || fail "the last resume failed"
cmp -s "$(newest "$run")" "$(newest "$ref")" ||
  fail "the resumed run's final checkpoint differs from the uninterrupted run's"
echo "$kills runs sent SIGKILL: $inside killed inside a write (a temporary file left behind)," \
  "$finished finished first, $early killed before their first checkpoint; after each, the newest" \
  "checkpoint was the uninterrupted run's byte for byte, and resuming reached its final state"
