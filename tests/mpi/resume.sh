#!/usr/bin/env bash
# A checkpoint written by N processes resumes on M (issue 15, item 3): weft-mpi-train (tests/mpi)
# trains 4 steps on 2 processes and goes on to step 8 alone, and 4 steps alone then on to step
# 8 on 2 processes; both end with the parameters of 8 uninterrupted steps on one process,
# within float summation-order tolerance.
#   tests/mpi/resume.sh <weft-mpi-train> <mpiexec> <work dir>
set -euo pipefail
prog=$1 mpiexec=$2 dir=$3
rm -rf "$dir"
mkdir -p "$dir"
flags=(-np 2 --oversubscribe)
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
# See data_parallel.sh: the processes mpirun starts skip LeakSanitizer's check.
mpi_asan="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
"$prog" --out "$dir/whole.txt" --steps 8
ASAN_OPTIONS=$mpi_asan "$mpiexec" "${flags[@]}" "$prog" --out "$dir/first.txt" --steps 4 \
  --checkpoints "$dir/two_to_one"
"$prog" --out "$dir/two_to_one.txt" --steps 8 --checkpoints "$dir/two_to_one" --resume
"$prog" --out "$dir/first_alone.txt" --steps 4 --checkpoints "$dir/one_to_two"
ASAN_OPTIONS=$mpi_asan "$mpiexec" "${flags[@]}" "$prog" --out "$dir/one_to_two.txt" --steps 8 \
  --checkpoints "$dir/one_to_two" --resume
"$prog" --compare "$dir/whole.txt" "$dir/two_to_one.txt" --params
"$prog" --compare "$dir/whole.txt" "$dir/one_to_two.txt" --params
