#!/usr/bin/env bash
# A rank lost mid-step stops the others within a bounded time with a message naming it, and
# the newest checkpoint is intact (issue 15, item 5). weft-mpi-train (tests/mpi) under
# mpirun -np 2, rank 1 failing when called for step 2, after rank 0 wrote checkpoint 2:
#   kill            rank 1 kills itself with SIGKILL: mpirun stops the job and names rank 1;
#                   the newest checkpoint loads and holds a clean run's parameters at step 2
#   hang            rank 1 stops answering: rank 0's wait gives up after
#                   WEFT_COLLECTIVE_TIMEOUT=2 s, saying that every rank is alive
#   kill, recovery  mpirun --enable-recovery leaves the job running: rank 0's wait gives up
#                   and names rank 1 as lost (its pid is gone from this host)
#   tests/mpi/rank_lost.sh <weft-mpi-train> <mpiexec> <work dir>
set -euo pipefail
prog=$1 mpiexec=$2 dir=$3
rm -rf "$dir"
mkdir -p "$dir"
flags=(-np 2 --oversubscribe)
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
# See data_parallel.sh: the processes mpirun starts skip LeakSanitizer's check.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export WEFT_TEST_FAULT_RANK=1 WEFT_TEST_FAULT_STEP=2 WEFT_COLLECTIVE_TIMEOUT=2
pass=(-x ASAN_OPTIONS -x WEFT_TEST_FAULT -x WEFT_TEST_FAULT_RANK -x WEFT_TEST_FAULT_STEP
      -x WEFT_COLLECTIVE_TIMEOUT)
fail() { echo "rank_lost.sh: $*" >&2; exit 1; }

# run <name> <expect: fail|any> <pattern> [mpirun flags...] -- [program flags...]: the job must
# end within 30 s (a hang would be killed at 60), exit nonzero unless `any`, and print `pattern`.
run() {
  local name=$1 expect=$2 pattern=$3
  shift 3
  local mflags=() pflags=()
  while [ "$1" != -- ]; do mflags+=("$1"); shift; done
  shift
  pflags=("$@")
  local start=$SECONDS rc=0
  timeout 60 "$mpiexec" "${flags[@]}" "${mflags[@]}" "${pass[@]}" "$prog" "${pflags[@]}" \
    >"$dir/$name.log" 2>&1 || rc=$?
  local took=$((SECONDS - start))
  cat "$dir/$name.log"
  [ "$took" -le 30 ] || fail "$name: the job took $took s to stop (rc $rc)"
  [ "$expect" = any ] || [ "$rc" -ne 0 ] || fail "$name: mpirun exited 0"
  grep -Eq "$pattern" "$dir/$name.log" || fail "$name: no line matches '$pattern'"
  echo "rank_lost.sh: $name: stopped after $took s (rc $rc), as expected"
}

WEFT_TEST_FAULT_RANK=-1 "$mpiexec" "${flags[@]}" "${pass[@]}" "$prog" --out "$dir/clean.txt" \
  --steps 2
WEFT_TEST_FAULT=kill run kill fail 'rank 1 .*(killed|signal 9)' -- --out "$dir/kill.txt" \
  --checkpoints "$dir/kill"
"$prog" --newest "$dir/kill" --out "$dir/newest.txt"
"$prog" --compare "$dir/clean.txt" "$dir/newest.txt" --params
WEFT_TEST_FAULT=hang run hang fail \
  'no answer within 2 s \(WEFT_COLLECTIVE_TIMEOUT\) on rank 0 of 2; every rank is alive' \
  -- --out "$dir/hang.txt"
! grep -q 'all_reduce: all_reduce' "$dir/hang.log" || fail "hang: the op's name is doubled"
WEFT_TEST_FAULT=kill run recovery any 'no answer within 2 s .* lost rank 1 \(pid [0-9]+\)' \
  --enable-recovery -- --out "$dir/recovery.txt"
