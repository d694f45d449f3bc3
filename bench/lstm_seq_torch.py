#!/usr/bin/env python3
"""An LSTM layer over a sequence in PyTorch: the peer of weft-bench-lstm-seq.

torch.nn.LSTM(I, H) (one layer, float32, time-major input [T, B, I], initial h0, c0 given)
under torch.no_grad(), timed per forward call: the median of the calls in about 0.5 s after a
warm-up, at the thread count given (torch_threads.set_threads: torch's own ops and its
OpenBLAS). Its gates are W x_t + b_ih + U h + b_hh, the same work as weft's [x_t, h] W + b.

Run it with Debian's python3-torch: /usr/bin/python3 bench/lstm_seq_torch.py.
--raw prints "T B I H threads microseconds" per line, for bench/lstm_seq.sh.

Usage: lstm_seq_torch.py [--raw] [--threads N] [TxBxIxH ...]
"""
import argparse
import statistics
import sys
import time

try:
    import torch
    import torch_threads
except ImportError:
    sys.exit("lstm_seq_torch.py: cannot import torch with " + sys.executable +
             "; install Debian's python3-torch (apt-get install python3-torch) "
             "and run this with /usr/bin/python3")

DEFAULT_SHAPES = ["100x64x256x256", "100x32x512x512", "100x1x256x256"]


def micros_per_call(fn, seconds=0.5):
    for _ in range(2):
        fn()
    t0 = time.perf_counter()
    fn()
    est = time.perf_counter() - t0
    runs = int(min(max(seconds / max(est, 1e-7), 5), 2000))
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def bench_shape(shape, threads):
    T, B, I, H = shape
    torch_threads.set_threads(threads)
    torch.manual_seed(11)
    lstm = torch.nn.LSTM(I, H)
    xs = torch.rand(T, B, I) * 2 - 1
    h0 = torch.rand(1, B, H) * 2 - 1
    c0 = torch.rand(1, B, H) * 2 - 1
    with torch.no_grad():
        return micros_per_call(lambda: lstm(xs, (h0, c0)))


def parse_shape(text):
    parts = text.split("x")
    if len(parts) != 4 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"expected TxBxIxH, got '{text}'")
    return tuple(int(p) for p in parts)


def main():
    ap = argparse.ArgumentParser(description="An LSTM layer in PyTorch (peer of weft).")
    ap.add_argument("--raw", action="store_true", help="machine-readable lines")
    ap.add_argument("--threads", type=int, default=None, help="one thread count (default 1 and 2)")
    ap.add_argument("shapes", nargs="*", type=parse_shape)
    args = ap.parse_args()
    shapes = args.shapes or [parse_shape(s) for s in DEFAULT_SHAPES]
    thread_counts = [args.threads] if args.threads else [1, 2]
    torch_threads.warn_if_uncontrolled("lstm_seq_torch.py")
    if not args.raw:
        print(f"PyTorch {torch.__version__} nn.LSTM forward, float32, no grad: median microseconds")
    for shape in shapes:
        for t in thread_counts:
            us = bench_shape(shape, t)
            if args.raw:
                print(f"{shape[0]} {shape[1]} {shape[2]} {shape[3]} {t} {us:.1f}")
            else:
                print(f"{shape[0]:>4} {shape[1]:>4} {shape[2]:>5} {shape[3]:>5} {t:>3} {us:>12.1f}")


if __name__ == "__main__":
    main()
