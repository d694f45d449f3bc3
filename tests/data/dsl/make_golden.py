#!/usr/bin/env python3
"""Writes the inputs and NumPy-computed results for tests/unit/frontend/ExecuteTest.cpp.

Run from any directory: `python3 tests/data/dsl/make_golden.py` (needs `pip install numpy`);
the .npy files land next to this script and are committed. Inputs are float32 (so the f32 and
the f64 runs of a test see the same values); results are computed by NumPy in float64 from
those inputs, with the textbook formulas rather than weft's max-shifted ones:
  softmax(x)     = exp(x) / sum(exp(x))
  log_softmax(x) = x - log(sum(exp(x)))
  matmul         = np.matmul, batch dims broadcast NumPy-style
(in float64, exp of the inputs, at most ~103, does not overflow).
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261201)


def save(name, a):
    np.save(os.path.join(HERE, name), a, allow_pickle=False)


def softmax(x, axis):
    return np.exp(x) / np.exp(x).sum(axis=axis, keepdims=True)


def log_softmax(x, axis):
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


# x: [2, 3, 5]; row [1, 2, :] is shifted by +100, where exp overflows f32 unless the max
# is subtracted first (exp(89) > FLT_MAX).
x = rng.uniform(-4, 4, size=(2, 3, 5)).astype(np.float32)
x[1, 2, :] += np.float32(100)
x64 = x.astype(np.float64)
save("x.npy", x)
save("softmax_axis2.npy", softmax(x64, 2))
save("softmax_axis1.npy", softmax(x64, 1))
save("log_softmax_axis2.npy", log_softmax(x64, 2))
save("log_softmax_axis0.npy", log_softmax(x64, 0))

# Rank-3 matmul: a batched product, a rank-2 weight applied to every row, and a batch dim of 1
# broadcast over 4.
a = rng.uniform(-2, 2, size=(4, 2, 8)).astype(np.float32)
b = rng.uniform(-2, 2, size=(4, 8, 3)).astype(np.float32)
w = rng.uniform(-2, 2, size=(8, 3)).astype(np.float32)
b1 = rng.uniform(-2, 2, size=(1, 8, 3)).astype(np.float32)
for name, v in {"a": a, "b": b, "w": w, "b1": b1}.items():
    save(name + ".npy", v)
a64 = a.astype(np.float64)
save("matmul_ab.npy", np.matmul(a64, b.astype(np.float64)))
save("matmul_aw.npy", np.matmul(a64, w.astype(np.float64)))
save("matmul_ab1.npy", np.matmul(a64, b1.astype(np.float64)))
