#!/usr/bin/env python3
"""One LSTM time step in PyTorch: the peer of weft-bench-lstm-step.

The same step as bench/lstm_step_bench.cpp (x: [B, I], h, c: [B, H], Wx: [I, 4H],
Wh: [H, 4H], b: [4H]; gates = x Wx + h Wh + b split into i, f, g, o), float32, under
torch.no_grad(), timed two ways: the explicit ops, and torch.nn.LSTMCell holding the same
weights (its gate order is also i, f, g, o). Each is the median of many calls after a
warm-up, at torch.set_num_threads(threads) and, as Debian's torch does its matrix products in
OpenBLAS's own pthread pool, which torch.set_num_threads does not reach, at
openblas_set_num_threads(threads) too (without it, "1 thread" ran on 2). Before timing, the two are checked against
each other (max abs difference at most 1e-6 * sqrt(I + H)).

Run it with Debian's python3-torch: /usr/bin/python3 bench/lstm_step_torch.py.
--raw prints "B I H threads explicit_us lstmcell_us" per line, for bench/lstm_step.sh.

Usage: lstm_step_torch.py [--raw] [--threads N] [BxIxH ...]
"""
import math
import sys

try:
    import torch
    import torch_peer
except ImportError:
    sys.exit("lstm_step_torch.py: cannot import torch with " + sys.executable +
             "; install Debian's python3-torch (apt-get install python3-torch) "
             "and run this with /usr/bin/python3")

DEFAULT_SHAPES = ["64x256x256", "32x512x512", "64x128x1024", "1x256x256", "128x512x512"]


def explicit_step(x, h, c, wx, wh, b):
    gates = x @ wx + h @ wh + b
    i, f, g, o = gates.chunk(4, 1)
    c2 = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h2 = torch.sigmoid(o) * torch.tanh(c2)
    return h2, c2


def bench_shape(shape, threads):
    B, I, H = shape
    torch_peer.set_threads(threads)
    g = torch.Generator().manual_seed(7)

    def uniform(*dims, bound=1.0):
        return (torch.rand(*dims, generator=g) * 2 - 1) * bound

    x, h, c = uniform(B, I), uniform(B, H), uniform(B, H)
    wx = uniform(I, 4 * H, bound=1 / math.sqrt(I))
    wh = uniform(H, 4 * H, bound=1 / math.sqrt(H))
    b = uniform(4 * H, bound=0.1)
    cell = torch.nn.LSTMCell(I, H)
    with torch.no_grad():
        cell.weight_ih.copy_(wx.t())
        cell.weight_hh.copy_(wh.t())
        cell.bias_ih.copy_(b)
        cell.bias_hh.zero_()
        h2, c2 = explicit_step(x, h, c, wx, wh, b)
        h2c, c2c = cell(x, (h, c))
        err = max((h2 - h2c).abs().max().item(), (c2 - c2c).abs().max().item())
        tol = 1e-6 * math.sqrt(I + H)
        if err > tol:
            sys.exit(f"lstm_step_torch.py: explicit ops and LSTMCell differ by {err:.2e} "
                     f"(tolerance {tol:.2e}) at B={B} I={I} H={H}")
        explicit_us = torch_peer.micros_per_call(lambda: explicit_step(x, h, c, wx, wh, b))
        cell_us = torch_peer.micros_per_call(lambda: cell(x, (h, c)))
    return explicit_us, cell_us


def main():
    ap = torch_peer.arguments("One LSTM step in PyTorch (peer of weft).", "BxIxH")
    args = ap.parse_args()
    shapes = args.shapes or [ap.shape(s) for s in DEFAULT_SHAPES]
    thread_counts = [args.threads] if args.threads else [1, 2]
    torch_peer.warn_if_uncontrolled("lstm_step_torch.py")
    if not args.raw:
        print(f"PyTorch {torch.__version__} LSTM step, float32, no grad: median microseconds")
        print(f"{'B':>5} {'I':>5} {'H':>5} {'thr':>3} {'explicit':>10} {'LSTMCell':>10}")
    for shape in shapes:
        for t in thread_counts:
            explicit_us, cell_us = bench_shape(shape, t)
            if args.raw:
                print(f"{shape[0]} {shape[1]} {shape[2]} {t} {explicit_us:.2f} {cell_us:.2f}")
            else:
                print(f"{shape[0]:>5} {shape[1]:>5} {shape[2]:>5} {t:>3} {explicit_us:>10.1f} "
                      f"{cell_us:>10.1f}")


if __name__ == "__main__":
    main()
