#!/usr/bin/env python3
"""Writes expected.json: torch.optim run on a small model, the reference for
tests/unit/passes/OptimizeStepTest.cpp (CI has no PyTorch; rerun this to regenerate).

Run: /work/venv/bin/python tests/data/optim/make_fixtures.py

The model, in f64: parameters W (2 x 3) and b (3), a batch X (2 x 3) per step,
  loss = sum(W * W + X * W) + sum(b * b)
Each case runs STEPS training steps (zero_grad, backward, optional
clip_grad_norm_, optimizer.step(), scheduler.step()) and records the loss and
the parameters after every step. "options" is the same case as
optimize-step options.
"""
import json
import math
import os

import torch

STEPS = 5
torch.set_default_dtype(torch.float64)

W0 = [[0.5, -1.25, 2.0], [-0.75, 0.1, 1.5]]
B0 = [0.3, -2.0, 0.8]
BATCHES = [[[math.sin(1.3 * (6 * s + k + 1)) for k in range(3 * r, 3 * r + 3)] for r in range(2)]
           for s in range(STEPS)]

O = torch.optim
S = torch.optim.lr_scheduler


def warmup_then(opt, n, start, make_next):
    warm = S.LinearLR(opt, start_factor=start, end_factor=1.0, total_iters=n)
    return S.SequentialLR(opt, [warm, make_next(opt)], milestones=[n])


# name, weft options, optimizer(params), scheduler(opt) or None, clip max_norm or None
CASES = [
    ("sgd", "kind=sgd lr=0.1", lambda p: O.SGD(p, lr=0.1), None, None),
    ("sgd_l2", "kind=sgd lr=0.1 weight_decay=0.1",
     lambda p: O.SGD(p, lr=0.1, weight_decay=0.1), None, None),
    ("momentum", "kind=momentum lr=0.05 momentum=0.9 dampening=0.1",
     lambda p: O.SGD(p, lr=0.05, momentum=0.9, dampening=0.1), None, None),
    ("nesterov", "kind=nesterov lr=0.05 momentum=0.8 weight_decay=0.01",
     lambda p: O.SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01), None, None),
    ("rmsprop", "kind=rmsprop lr=0.01", lambda p: O.RMSprop(p, lr=0.01), None, None),
    ("rmsprop_centered", "kind=rmsprop lr=0.01 alpha=0.9 centered=true momentum=0.5 "
     "weight_decay=0.1",
     lambda p: O.RMSprop(p, lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1),
     None, None),
    ("adagrad", "kind=adagrad lr=0.1 lr_decay=0.01 weight_decay=0.05",
     lambda p: O.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.05), None, None),
    ("adam", "kind=adam lr=0.1", lambda p: O.Adam(p, lr=0.1), None, None),
    ("adam_l2", "kind=adam lr=0.1 beta1=0.8 beta2=0.99 eps=1e-6 weight_decay=0.1",
     lambda p: O.Adam(p, lr=0.1, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1), None, None),
    ("adamw", "kind=adamw lr=0.1 weight_decay=0.1",
     lambda p: O.AdamW(p, lr=0.1, weight_decay=0.1), None, None),
    ("sgd_step_lr", "kind=sgd lr=0.1 schedule=step step_size=2 gamma=0.5",
     lambda p: O.SGD(p, lr=0.1), lambda o: S.StepLR(o, step_size=2, gamma=0.5), None),
    ("sgd_exponential", "kind=sgd lr=0.1 schedule=exponential gamma=0.9",
     lambda p: O.SGD(p, lr=0.1), lambda o: S.ExponentialLR(o, gamma=0.9), None),
    ("adam_cosine", "kind=adam lr=0.1 schedule=cosine t_max=4 eta_min=0.01",
     lambda p: O.Adam(p, lr=0.1), lambda o: S.CosineAnnealingLR(o, T_max=4, eta_min=0.01), None),
    ("sgd_warmup", "kind=sgd lr=0.1 warmup=3 warmup_start=0.25",
     lambda p: O.SGD(p, lr=0.1),
     lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=3), None),
    ("adamw_warmup_cosine", "kind=adamw lr=0.1 warmup=2 warmup_start=0.5 schedule=cosine t_max=3",
     lambda p: O.AdamW(p, lr=0.1),
     lambda o: warmup_then(o, 2, 0.5, lambda o2: S.CosineAnnealingLR(o2, T_max=3)), None),
    ("momentum_clip", "kind=momentum lr=0.05 clip_norm=1",
     lambda p: O.SGD(p, lr=0.05, momentum=0.9), None, 1.0),
    ("adam_clip_exponential", "kind=adam lr=0.1 clip_norm=0.5 schedule=exponential gamma=0.8",
     lambda p: O.Adam(p, lr=0.1), lambda o: S.ExponentialLR(o, gamma=0.8), 0.5),
]


def run(make_opt, make_sched, clip):
    W = torch.tensor(W0, requires_grad=True)
    b = torch.tensor(B0, requires_grad=True)
    opt = make_opt([W, b])
    sched = make_sched(opt) if make_sched else None
    steps = []
    for X in BATCHES:
        opt.zero_grad()
        loss = (W * W + torch.tensor(X) * W).sum() + (b * b).sum()
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_([W, b], max_norm=clip)
        opt.step()
        if sched:
            sched.step()
        steps.append({"loss": loss.item(), "W": W.detach().flatten().tolist(),
                      "b": b.detach().tolist()})
    return steps


def main():
    out = {"torch": torch.__version__, "W0": sum(W0, []), "b0": B0,
           "batches": [sum(X, []) for X in BATCHES],
           "cases": [{"name": n, "options": opts, "steps": run(mo, ms, c)}
                     for n, opts, mo, ms, c in CASES]}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "expected.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
