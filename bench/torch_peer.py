"""What the PyTorch peers of weft's benchmarks share: thread counts, timing, arguments.

Debian's torch does its matrix products in OpenBLAS's own pthread pool, which
torch.set_num_threads does not reach; without openblas_set_num_threads as well, a
"1 thread" PyTorch run does its GEMMs on every core.
"""
import argparse
import ctypes
import ctypes.util
import os
import statistics
import sys
import time

import torch


def _openblas_thread_setter():
    """openblas_set_num_threads from the OpenBLAS that torch loaded, or None without one."""
    for name in ("libopenblas.so.0", ctypes.util.find_library("openblas"), "libblas.so.3"):
        if not name:
            continue
        try:
            fn = ctypes.CDLL(name).openblas_set_num_threads
        except (OSError, AttributeError):
            continue
        fn.argtypes = [ctypes.c_int]
        return fn
    return None


_SET_BLAS_THREADS = _openblas_thread_setter()


def set_threads(threads):
    """Runs torch's own ops and its BLAS on `threads` threads."""
    torch.set_num_threads(threads)
    if _SET_BLAS_THREADS:
        _SET_BLAS_THREADS(threads)


def warn_if_uncontrolled(script):
    if not _SET_BLAS_THREADS:
        print(f"{script}: warning: no OpenBLAS found to set the thread count of; torch's BLAS "
              "may use more threads than asked", file=sys.stderr)


def micros_per_call(fn, seconds=0.5, min_runs=20, max_runs=5000, clock=None):
    """Median microseconds of fn() over about `seconds` of calls, after a warm-up: wall time, or
    the process's CPU time with clock=time.process_time or under WEFT_BENCH_CLOCK=cpu (as
    bench/BenchTiming.h)."""
    if clock is None:
        clock = time.process_time if os.environ.get("WEFT_BENCH_CLOCK") == "cpu" else time.perf_counter
    for _ in range(3):
        fn()
    t0 = clock()
    fn()
    est = clock() - t0
    runs = int(min(max(seconds / max(est, 1e-7), min_runs), max_runs))
    times = []
    for _ in range(runs):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times) * 1e6


def arguments(description, dims):
    """--raw, --threads N and shapes like BxIxH (`dims` = "BxIxH") as tuples of ints."""
    def shape(text):
        parts = text.split("x")
        if len(parts) != len(dims.split("x")) or not all(p.isdigit() and int(p) > 0
                                                        for p in parts):
            raise argparse.ArgumentTypeError(f"expected {dims}, got '{text}'")
        return tuple(int(p) for p in parts)

    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--raw", action="store_true", help="machine-readable lines")
    ap.add_argument("--threads", type=int, default=None, help="one thread count (default 1 and 2)")
    ap.add_argument("shapes", nargs="*", type=shape)
    ap.shape = shape
    return ap
