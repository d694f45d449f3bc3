#!/usr/bin/env python3
"""JAX peers of weft's LSTM benchmarks: one LSTM layer as jax.jit(lax.scan(cell)).

  lstm_jax.py seq   [--raw] [--threads N] [TxBxIxH ...]    forward, as weft-bench-lstm-seq
  lstm_jax.py train [--raw] [--threads N] [--hidden H] [--batch B] [--length T]
                                                          a training step as lstm_train_torch.py:
                                                          LSTM, linear readout of the last h,
                                                          MSE, gradients and Adam (written out,
                                                          as optax would), all in one jit

The cell is PyTorch's (gates i, f, g, o; x W_ih^T + b_ih + h W_hh^T + b_hh). Timing: the median
of calls after a warm-up (compilation), each call waiting for its result (block_until_ready).
XLA's CPU thread pool is held to N threads through XLA_FLAGS before jax is imported; run it
under `taskset` as well for a hard bound (bench/compare.py does). --raw prints
"T B I H threads us" (seq) or "H B T threads us" (train).
"""
import argparse
import os
import statistics
import sys
import time


def parse():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["seq", "train"])
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--length", type=int, default=100)
    ap.add_argument("shapes", nargs="*")
    return ap.parse_intermixed_args()


args = parse()
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           f" --xla_cpu_multi_thread_eigen={'true' if args.threads > 1 else 'false'}"
                           f" intra_op_parallelism_threads={args.threads}")
try:
    import jax
    import jax.numpy as jnp
except ImportError:
    sys.exit("lstm_jax.py: cannot import jax with " + sys.executable + "; pip install jax")


def init(key, I, H):
    k = 1.0 / H ** 0.5
    ks = jax.random.split(key, 6)
    u = lambda kk, shape: jax.random.uniform(kk, shape, jnp.float32, -k, k)
    return {"w_ih": u(ks[0], (4 * H, I)), "w_hh": u(ks[1], (4 * H, H)),
            "b_ih": u(ks[2], (4 * H,)), "b_hh": u(ks[3], (4 * H,)),
            "out_w": u(ks[4], (1, H)), "out_b": u(ks[5], (1,))}


def lstm(p, xs, h0, c0):
    # The input projection over all steps at once, as PyTorch and weft's hoisted form do.
    xw = jnp.einsum("tbi,gi->tbg", xs, p["w_ih"]) + p["b_ih"] + p["b_hh"]

    def cell(carry, xw_t):
        h, c = carry
        z = xw_t + h @ p["w_hh"].T
        i, f, g, o = jnp.split(z, 4, axis=1)
        c2 = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h2 = jax.nn.sigmoid(o) * jnp.tanh(c2)
        return (h2, c2), h2

    (hT, cT), hs = jax.lax.scan(cell, (h0, c0), xw)
    return hs, hT, cT


def micros(fn, seconds=0.5, min_runs=5, max_runs=2000):
    for _ in range(3):
        jax.block_until_ready(fn())
    t0 = time.perf_counter()
    jax.block_until_ready(fn())
    est = time.perf_counter() - t0
    runs = int(min(max(seconds / max(est, 1e-7), min_runs), max_runs))
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def bench_seq(shape):
    T, B, I, H = (int(v) for v in shape.split("x"))
    key = jax.random.PRNGKey(11)
    p = init(key, I, H)
    xs = jax.random.uniform(key, (T, B, I), jnp.float32, -1, 1)
    h0 = jnp.zeros((B, H), jnp.float32)
    f = jax.jit(lstm)
    us = micros(lambda: f(p, xs, h0, h0))
    print(f"{T} {B} {I} {H} {args.threads} {us:.1f}" if args.raw else
          f"JAX {jax.__version__} jit(lax.scan) LSTM {shape}, {args.threads} threads: {us:.1f} us")


def bench_train():
    H, B, T = args.hidden, args.batch, args.length
    key = jax.random.PRNGKey(1)
    p = init(key, H, H)
    xs = jax.random.uniform(key, (T, B, H), jnp.float32, -1, 1)
    ys = jax.random.uniform(jax.random.PRNGKey(2), (B, 1), jnp.float32)
    zero = jnp.zeros((B, H), jnp.float32)

    def loss(p):
        _, h, _ = lstm(p, xs, zero, zero)
        return jnp.mean((h @ p["out_w"].T + p["out_b"] - ys) ** 2)

    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8

    @jax.jit
    def step(p, m, v, t):
        value, g = jax.value_and_grad(loss)(p)
        t = t + 1
        m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
        v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
        scale = lr * jnp.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        p = jax.tree_util.tree_map(lambda p, m, v: p - scale * m / (jnp.sqrt(v) + eps), p, m, v)
        return value, p, m, v, t

    state = [p, jax.tree_util.tree_map(jnp.zeros_like, p),
             jax.tree_util.tree_map(jnp.zeros_like, p), jnp.float32(0)]

    def once():
        value, *rest = step(*state)
        state[:] = rest
        return value

    us = micros(once)
    print(f"{H} {B} {T} {args.threads} {us:.1f}" if args.raw else
          f"JAX {jax.__version__} jit LSTM training step (Adam), I = H = {H}, B = {B}, T = {T}, "
          f"{args.threads} threads: {us / 1e3:.2f} ms/step")


if args.mode == "seq":
    for s in args.shapes or ["100x64x256x256"]:
        bench_seq(s)
else:
    bench_train()
