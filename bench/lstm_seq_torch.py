#!/usr/bin/env python3
"""An LSTM layer over a sequence in PyTorch: the peer of weft-bench-lstm-seq.

torch.nn.LSTM(I, H) (one layer, float32, time-major input [T, B, I], initial h0, c0 given)
under torch.no_grad(), timed per forward call: the median of the calls in about 0.5 s after a
warm-up, at the thread count given (torch_peer.set_threads: torch's own ops and its
OpenBLAS). Its gates are W x_t + b_ih + U h + b_hh, the same work as weft's [x_t, h] W + b.

Run it with Debian's python3-torch: /usr/bin/python3 bench/lstm_seq_torch.py.
--raw prints "T B I H threads microseconds" per line, for bench/lstm_seq.sh.

--compile times torch.compile(nn.LSTM) instead of eager.

Usage: lstm_seq_torch.py [--raw] [--threads N] [--compile] [TxBxIxH ...]
"""
import sys

try:
    import torch
    import torch_peer
except ImportError:
    sys.exit("lstm_seq_torch.py: cannot import torch with " + sys.executable +
             "; install Debian's python3-torch (apt-get install python3-torch) "
             "and run this with /usr/bin/python3")

DEFAULT_SHAPES = ["100x64x256x256", "100x32x512x512", "100x1x256x256"]


def bench_shape(shape, threads, compiled=False):
    T, B, I, H = shape
    torch_peer.set_threads(threads)
    torch.manual_seed(11)
    lstm = torch.nn.LSTM(I, H)
    run = torch.compile(lstm) if compiled else lstm
    xs = torch.rand(T, B, I) * 2 - 1
    h0 = torch.rand(1, B, H) * 2 - 1
    c0 = torch.rand(1, B, H) * 2 - 1
    with torch.no_grad():
        return torch_peer.micros_per_call(lambda: run(xs, (h0, c0)), min_runs=5,
                                          max_runs=2000)


def main():
    ap = torch_peer.arguments("An LSTM layer in PyTorch (peer of weft).", "TxBxIxH")
    ap.add_argument("--compile", action="store_true", help="time torch.compile(nn.LSTM)")
    args = ap.parse_args()
    shapes = args.shapes or [ap.shape(s) for s in DEFAULT_SHAPES]
    thread_counts = [args.threads] if args.threads else [1, 2]
    torch_peer.warn_if_uncontrolled("lstm_seq_torch.py")
    if not args.raw:
        print(f"PyTorch {torch.__version__} nn.LSTM forward, float32, no grad: median microseconds")
    for shape in shapes:
        for t in thread_counts:
            us = bench_shape(shape, t, args.compile)
            if args.raw:
                print(f"{shape[0]} {shape[1]} {shape[2]} {shape[3]} {t} {us:.1f}")
            else:
                print(f"{shape[0]:>4} {shape[1]:>4} {shape[2]:>5} {shape[3]:>5} {t:>3} {us:>12.1f}")


if __name__ == "__main__":
    main()
