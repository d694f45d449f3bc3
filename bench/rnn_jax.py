#!/usr/bin/env python3
"""JAX peer of weft-bench-rnn: one GRU (PyTorch's form) or tanh RNN layer as
jax.jit(lax.scan(cell)).

  rnn_jax.py --cell gru|rnn [--mode infer|train] [--raw] [--threads N] [TxBxIxH ...]

The cells are PyTorch's nn.GRU and nn.RNN (weights [G*H, I] and [G*H, H], gates r, z, n;
n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))). infer: the layer's forward from a given h0,
the input projection over all steps at once before the scan, as PyTorch, weft and lstm_jax.py
do. train: the layer from h0 = 0, a linear readout of the last h, MSE, gradients and Adam
(written out, as optax would), all in one jit, as bench/rnn_torch.py's training step.
Timing: the median of calls after a warm-up (compilation), each call waiting for its result.
XLA's CPU thread pool is held to N threads through XLA_FLAGS before jax is imported; run it
under `taskset` as well for a hard bound (bench/compare.py does). --raw prints
"T B I H threads us" per shape, the line bench/compare.py reads.
"""
import argparse
import os
import statistics
import sys
import time


def parse():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cell", choices=["gru", "rnn"], required=True)
    ap.add_argument("--mode", choices=["infer", "train"], default="infer")
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
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
    sys.exit("rnn_jax.py: cannot import jax with " + sys.executable + "; pip install jax")

GATES = {"gru": 3, "rnn": 1}


def init(key, I, H):
    G = GATES[args.cell]
    k = 1.0 / H ** 0.5
    ks = jax.random.split(key, 6)
    u = lambda kk, shape: jax.random.uniform(kk, shape, jnp.float32, -k, k)
    return {"w_ih": u(ks[0], (G * H, I)), "w_hh": u(ks[1], (G * H, H)),
            "b_ih": u(ks[2], (G * H,)), "b_hh": u(ks[3], (G * H,)),
            "out_w": u(ks[4], (1, H)), "out_b": u(ks[5], (1,))}


def layer(p, xs, h0):
    xw = jnp.einsum("tbi,gi->tbg", xs, p["w_ih"]) + p["b_ih"]

    def gru(h, xw_t):
        hw = h @ p["w_hh"].T + p["b_hh"]
        xr, xz, xn = jnp.split(xw_t, 3, axis=1)
        hr, hz, hn = jnp.split(hw, 3, axis=1)
        r = jax.nn.sigmoid(xr + hr)
        z = jax.nn.sigmoid(xz + hz)
        n = jnp.tanh(xn + r * hn)
        h2 = n + z * (h - n)
        return h2, h2

    def rnn(h, xw_t):
        h2 = jnp.tanh(xw_t + h @ p["w_hh"].T + p["b_hh"])
        return h2, h2

    hT, hs = jax.lax.scan(gru if args.cell == "gru" else rnn, h0, xw)
    return hs, hT


def micros(fn, seconds=0.5, min_runs=3, max_runs=2000):
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


def bench_infer(T, B, I, H):
    key = jax.random.PRNGKey(11)
    p = init(key, I, H)
    xs = jax.random.uniform(key, (T, B, I), jnp.float32, -1, 1)
    h0 = jax.random.uniform(jax.random.PRNGKey(3), (B, H), jnp.float32, -1, 1)
    f = jax.jit(layer)
    return micros(lambda: f(p, xs, h0))


def bench_train(T, B, I, H):
    key = jax.random.PRNGKey(1)
    p = init(key, I, H)
    xs = jax.random.uniform(key, (T, B, I), jnp.float32, -1, 1)
    ys = jax.random.uniform(jax.random.PRNGKey(2), (B, 1), jnp.float32)
    zero = jnp.zeros((B, H), jnp.float32)

    def loss(p):
        _, h = layer(p, xs, zero)
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

    return micros(once)


for s in args.shapes or ["100x64x256x256", "100x64x512x512"]:
    T, B, I, H = (int(v) for v in s.split("x"))
    us = (bench_infer if args.mode == "infer" else bench_train)(T, B, I, H)
    print(f"{T} {B} {I} {H} {args.threads} {us:.1f}" if args.raw else
          f"JAX {jax.__version__} jit(lax.scan) {args.cell.upper()} {args.mode} {s}, "
          f"{args.threads} threads: {us / 1e3:.2f} ms")
