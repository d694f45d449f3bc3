#!/usr/bin/env python3
"""The PyTorch peer of weft-bench-trainer-overhead's step: one nn.LSTM layer (I = H), a linear
readout of the last state, MSE, backward and torch.optim.Adam, timed per step (median after a
warm-up) at the thread count given, eager and, with --compile, torch.compile'd.

Usage: lstm_train_torch.py [--hidden 256] [--batch 64] [--length 100] [--threads N] [--compile]
                           [--raw]
--raw prints "H B T threads microseconds_per_step", the line bench/compare.py reads.
Run it with an interpreter that has torch 2 (pip install torch); for the best configuration
set OMP_WAIT_POLICY=PASSIVE MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=10000000000.
"""
import argparse
import os
import statistics
import time

import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--length", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--raw", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    H, B, T = a.hidden, a.batch, a.length
    lstm, out = torch.nn.LSTM(H, H), torch.nn.Linear(H, 1)
    params = list(lstm.parameters()) + list(out.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    xs, ys = torch.rand(T, B, H) * 2 - 1, torch.rand(B, 1)

    def step():
        opt.zero_grad(set_to_none=True)
        _, (h, _) = lstm(xs)
        loss = torch.nn.functional.mse_loss(out(h[0]), ys)
        loss.backward()
        opt.step()
        return loss

    run = torch.compile(step) if a.compile else step
    for _ in range(3):
        run()
    # The process's CPU time under WEFT_BENCH_CLOCK=cpu (compare.py --cpu-time), as weft's
    # contenders measure on a loaded machine; else wall time.
    clock = time.process_time if os.environ.get("WEFT_BENCH_CLOCK") == "cpu" else time.perf_counter
    times = []
    for _ in range(a.steps):
        t0 = clock()
        run()
        times.append(clock() - t0)
    if a.raw:
        print(f"{H} {B} {T} {a.threads} {statistics.median(times) * 1e6:.1f}")
        return
    mode = "torch.compile" if a.compile else "eager"
    print(f"PyTorch {torch.__version__} {mode}, {a.threads} threads: LSTM training step (Adam), "
          f"I = H = {H}, B = {B}, T = {T}: {statistics.median(times) * 1e3:.2f} ms/step")


if __name__ == "__main__":
    main()
