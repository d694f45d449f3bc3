#!/usr/bin/env bash
# With TrainOptions::shards, data parallelism gives one process's numbers to the bit (issue 15,
# item 4): weft-mpi-train (tests/mpi) cut into 4 shards ends 8 steps with the same losses and
# parameters alone (4 threads) and under mpirun -np 2 (2 threads each), and a run of 4 steps on
# 2 processes resumed alone for 4 more ends with the same parameters too.
#   tests/mpi/bit_identical.sh <weft-mpi-train> <mpiexec> <work dir>
set -euo pipefail
prog=$1 mpiexec=$2 dir=$3
rm -rf "$dir"
mkdir -p "$dir"
flags=(-np 2 --oversubscribe)
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
# See data_parallel.sh: the processes mpirun starts skip LeakSanitizer's check.
mpi_asan="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
"$prog" --out "$dir/one.txt" --shards 4 --steps 8
ASAN_OPTIONS=$mpi_asan "$mpiexec" "${flags[@]}" "$prog" --out "$dir/two.txt" --shards 4 --steps 8
cmp "$dir/one.txt" "$dir/two.txt"
ASAN_OPTIONS=$mpi_asan "$mpiexec" "${flags[@]}" "$prog" --out "$dir/first.txt" --shards 4 \
  --steps 4 --checkpoints "$dir/ckpt"
"$prog" --out "$dir/resumed.txt" --shards 4 --steps 8 --checkpoints "$dir/ckpt" --resume
grep -v '^loss' "$dir/one.txt" >"$dir/one_params.txt"
grep -v '^loss' "$dir/resumed.txt" >"$dir/resumed_params.txt"
cmp "$dir/one_params.txt" "$dir/resumed_params.txt"
echo "bit_identical.sh: 1 and 2 processes, and 2 then 1, agree to the bit"
