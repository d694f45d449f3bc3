#!/usr/bin/env python3
"""A GRU or tanh RNN layer in PyTorch: the peer of weft-bench-rnn.

torch.nn.GRU(I, H) or torch.nn.RNN(I, H) (one layer, float32, time-major input [T, B, I],
initial h0 given), timed per call: the median of the calls in about 0.5 s after a warm-up, at
the thread count given (torch_peer.set_threads: torch's own ops and its OpenBLAS).
  --mode infer: the layer's forward under torch.no_grad();
  --mode train: the layer, a linear readout of h_n and an MSE loss, backward and
                torch.optim.Adam, as bench/lstm_train_torch.py does for the LSTM.
--compile times torch.compile of the same (the module, or the whole training step).
--raw prints "T B I H threads microseconds" per shape, the line bench/compare.py reads.

Usage: rnn_torch.py --cell gru|rnn [--mode infer|train] [--raw] [--threads N] [--compile]
                    [TxBxIxH ...]
Run it with an interpreter that has torch 2; for the best configuration set
OMP_WAIT_POLICY=PASSIVE MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=10000000000.
"""
import sys

try:
    import torch
    import torch_peer
except ImportError:
    sys.exit("rnn_torch.py: cannot import torch with " + sys.executable)

DEFAULT_SHAPES = ["100x64x256x256", "100x64x512x512"]


def bench_shape(cell, mode, shape, threads, compiled):
    T, B, I, H = shape
    torch_peer.set_threads(threads)
    torch.manual_seed(11)
    layer = (torch.nn.GRU if cell == "gru" else torch.nn.RNN)(I, H)
    xs = torch.rand(T, B, I) * 2 - 1
    h0 = torch.rand(1, B, H) * 2 - 1
    if mode == "infer":
        run = torch.compile(layer) if compiled else layer
        with torch.no_grad():
            return torch_peer.micros_per_call(lambda: run(xs, h0), min_runs=5, max_runs=2000)
    out = torch.nn.Linear(H, 1)
    opt = torch.optim.Adam(list(layer.parameters()) + list(out.parameters()), lr=1e-3)
    ys = torch.rand(B, 1)

    def step():
        opt.zero_grad(set_to_none=True)
        _, h = layer(xs)
        loss = torch.nn.functional.mse_loss(out(h[0]), ys)
        loss.backward()
        opt.step()
        return loss

    run = torch.compile(step) if compiled else step
    return torch_peer.micros_per_call(run, min_runs=3, max_runs=200)


def main():
    ap = torch_peer.arguments("A GRU or RNN layer in PyTorch (peer of weft).", "TxBxIxH")
    ap.add_argument("--cell", choices=["gru", "rnn"], required=True)
    ap.add_argument("--mode", choices=["infer", "train"], default="infer")
    ap.add_argument("--compile", action="store_true", help="time torch.compile of the same")
    args = ap.parse_args()
    shapes = args.shapes or [ap.shape(s) for s in DEFAULT_SHAPES]
    thread_counts = [args.threads] if args.threads else [1, 2]
    torch_peer.warn_if_uncontrolled("rnn_torch.py")
    for shape in shapes:
        for t in thread_counts:
            us = bench_shape(args.cell, args.mode, shape, t, args.compile)
            if args.raw:
                print(f"{shape[0]} {shape[1]} {shape[2]} {shape[3]} {t} {us:.1f}")
            else:
                print(f"PyTorch {args.cell} {args.mode}{' compiled' if args.compile else ''} "
                      f"{'x'.join(map(str, shape))}, {t} threads: {us / 1e3:.2f} ms")


if __name__ == "__main__":
    main()
