#!/usr/bin/env python3
"""Writes the PyTorch fixtures of tests/unit/frontend/nn (run: /work/venv/bin/python make_fixtures.py).

Each case is a folder of .npy files: the inputs and parameters (f32 values, i64 indices), and
what PyTorch computes from them in f64: the outputs and the gradients of L = sum(out * r) for a
fixed random r (the upstream gradient), named grad_<input>. Computing in f64 on f32 inputs
gives the exact answer up to f64 rounding, so one fixture serves the f32 tests (1e-5) and the
f64 ones (1e-12). Deterministic: a fixed seed, no GPU.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261201)


def exact(a):
    """`a` rounded to f32, as f64: values an f32 input holds exactly."""
    return np.asarray(a).astype(np.float32).astype(np.float64)


def f32(*shape, scale=1.0, shift=0.0):
    """Random normal values times scale plus shift, rounded to f32, as f64 for torch."""
    return exact(rng.standard_normal(shape) * scale + shift)


def save(case, **arrays):
    os.makedirs(os.path.join(HERE, case), exist_ok=True)
    for name, a in arrays.items():
        if isinstance(a, torch.Tensor):
            a = a.detach().numpy()
        a = np.array(a, order="C")  # not ascontiguousarray: that makes scalars [1]
        if a.dtype == np.float64 and (name == "r" or name.startswith(("in_", "r_"))):
            a = a.astype(np.float32)  # inputs exactly as given; outputs keep f64
        np.save(os.path.join(HERE, case, name + ".npy"), a)


def leaf(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def upstream(out):
    r = f32(*out.shape)
    (out * torch.tensor(r)).sum().backward()
    return r


def linear():
    x, w, b = leaf(f32(2, 3, 4)), leaf(f32(5, 4, scale=0.5)), leaf(f32(5))
    y = F.linear(x, w, b)
    r = upstream(y)
    save("linear", in_x=x, in_weight=w, in_bias=b, r=r, y=y, grad_x=x.grad, grad_weight=w.grad,
         grad_bias=b.grad)


def embedding():
    idx = np.array([[1, 0, 3, 5, 0], [2, 2, 4, 0, 1]], dtype=np.int64)  # 0 is the padding index
    emb = torch.nn.Embedding(6, 3, padding_idx=0).double()
    with torch.no_grad():
        emb.weight.copy_(torch.tensor(f32(6, 3)))  # a nonzero pad row: it must still get no grad
    y = emb(torch.tensor(idx))
    r = upstream(y)
    save("embedding", idx=idx, in_weight=emb.weight, r=r, y=y, grad_weight=emb.weight.grad)


def activations():
    # Values away from 0, where every activation is smooth.
    x0 = f32(4, 6, scale=2.0)
    x0[np.abs(x0) < 1e-3] = 0.5
    funcs = {
        "gelu": lambda x: F.gelu(x),
        "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
        "elu": lambda x: F.elu(x, alpha=0.7),
        "selu": F.selu,
        "softplus": F.softplus,
    }
    arrays = {"in_x": x0}
    for name, fn in funcs.items():
        x = leaf(x0)
        y = fn(x)
        r = upstream(y)
        arrays.update({f"r_{name}": r, f"y_{name}": y, f"grad_{name}": x.grad})
    save("activations", **arrays)


def batchnorm():
    for mode in ("train", "eval"):
        bn = torch.nn.BatchNorm1d(4).double()
        x = leaf(f32(6, 4, scale=1.5, shift=0.3))
        with torch.no_grad():
            bn.weight.copy_(torch.tensor(f32(4)))
            bn.bias.copy_(torch.tensor(f32(4)))
            bn.running_mean.copy_(torch.tensor(f32(4, scale=0.2)))
            bn.running_var.copy_(torch.tensor(exact(np.abs(f32(4)) + 0.5)))
        rm, rv = bn.running_mean.clone(), bn.running_var.clone()
        bn.train(mode == "train")
        y = bn(x)
        r = upstream(y)
        save(f"batchnorm_{mode}", in_x=x, in_weight=bn.weight, in_bias=bn.bias, in_running_mean=rm,
             in_running_var=rv, r=r, y=y, running_mean=bn.running_mean, running_var=bn.running_var,
             grad_x=x.grad, grad_weight=bn.weight.grad, grad_bias=bn.bias.grad)


def layernorm():
    ln = torch.nn.LayerNorm([3, 5]).double()
    x = leaf(f32(2, 3, 5, shift=1.0))
    with torch.no_grad():
        ln.weight.copy_(torch.tensor(f32(3, 5)))
        ln.bias.copy_(torch.tensor(f32(3, 5)))
    y = ln(x)
    r = upstream(y)
    save("layernorm", in_x=x, in_weight=ln.weight, in_bias=ln.bias, r=r, y=y, grad_x=x.grad,
         grad_weight=ln.weight.grad, grad_bias=ln.bias.grad)


def losses():
    pred, target = leaf(f32(4, 3)), f32(4, 3)
    mse = F.mse_loss(pred, torch.tensor(target))
    mse.backward()
    save("mse", in_pred=pred, in_target=target, loss=mse, grad_pred=pred.grad)

    # Logits [2, 5, 7] with one row shifted by +80 (a naive exp overflows in f32).
    logits0 = f32(2, 5, 7, scale=2.0)
    logits0[1, 2] = exact(logits0[1, 2] + 80.0)
    labels = rng.integers(0, 7, size=(2, 5)).astype(np.int64)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 0]], dtype=np.float32)
    logits = leaf(logits0)
    ce = F.cross_entropy(logits.reshape(-1, 7), torch.tensor(labels).reshape(-1))
    ce.backward()
    save("cross_entropy", in_logits=logits, labels=labels, loss=ce, grad_logits=logits.grad)
    logits = leaf(logits0)
    nll = F.cross_entropy(logits.reshape(-1, 7), torch.tensor(labels).reshape(-1), reduction="none")
    masked = (nll * torch.tensor(mask, dtype=torch.float64).reshape(-1)).sum() / mask.sum()
    masked.backward()
    save("cross_entropy_masked", in_logits=logits, labels=labels, mask=mask, loss=masked,
         grad_logits=logits.grad)
    # About half the labels are the argmax, so both accuracies lie strictly inside (0, 1).
    hit = rng.uniform(size=labels.shape) < 0.5
    acc_labels = np.where(hit, logits0.argmax(-1), labels)
    correct = (logits0.argmax(-1) == acc_labels).astype(np.float64)
    save("accuracy", in_logits=logits0, labels=acc_labels, mask=mask,
         accuracy=np.array(correct.mean()), accuracy_masked=np.array((correct * mask).sum() / mask.sum()))

    x0 = f32(4, 3, scale=3.0)
    x0[0, 0] = 40.0  # exp(40) overflows nothing in the stable form
    x0[1, 1] = -40.0
    x = leaf(x0)
    y = exact(rng.uniform(0, 1, size=(4, 3)))
    bce = F.binary_cross_entropy_with_logits(x, torch.tensor(y))
    bce.backward()
    save("bce_with_logits", in_logits=x, in_targets=y, loss=bce, grad_logits=x.grad)


if __name__ == "__main__":
    torch.manual_seed(0)
    linear()
    embedding()
    activations()
    batchnorm()
    layernorm()
    losses()
