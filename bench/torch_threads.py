"""Thread counts for the PyTorch peers of weft's benchmarks.

Debian's torch does its matrix products in OpenBLAS's own pthread pool, which
torch.set_num_threads does not reach; without openblas_set_num_threads as well, a
"1 thread" PyTorch run does its GEMMs on every core.
"""
import ctypes
import ctypes.util
import sys

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
