#!/usr/bin/env bash
# Data parallelism gives the numbers of one process: weft-mpi-train (tests/mpi) run alone, then
# under mpirun on 2 processes (MPI's reduction order, then WEFT_ALLREDUCE=rank_order), must end
# with the same losses and parameters within float summation-order tolerance.
#   tests/mpi/data_parallel.sh <weft-mpi-train> <mpiexec> <work dir>
set -euo pipefail
prog=$1 mpiexec=$2 dir=$3
rm -rf "$dir"
mkdir -p "$dir"
flags=(-np 2 --oversubscribe)
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
"$prog" --out "$dir/one.txt"
# Under mpirun, OpenMPI's components (dlopen'ed, unloaded at MPI_Finalize) keep allocations that
# LeakSanitizer reports with no module left to suppress them by; in an ASan build the processes
# mpirun starts skip the leak check. The run alone above (no MPI started) keeps it.
mpi_asan="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
ASAN_OPTIONS=$mpi_asan "$mpiexec" "${flags[@]}" "$prog" --out "$dir/two.txt"
ASAN_OPTIONS=$mpi_asan WEFT_ALLREDUCE=rank_order "$mpiexec" "${flags[@]}" -x WEFT_ALLREDUCE \
  "$prog" --out "$dir/two_rank_order.txt"
"$prog" --compare "$dir/one.txt" "$dir/two.txt"
"$prog" --compare "$dir/one.txt" "$dir/two_rank_order.txt"
