#!/usr/bin/env python3
"""Issue 15's scaling table: what data parallelism costs weft's training steps, measured here
on 1 and 2 processes and projected to 8-1024 ranks with a ring all-reduce cost model.

  bench/data_parallel.py [--build DIR] [--passes P] [--models adding,sort-letters]
                         [--mpirun CMD] [--bucket-kib K] [--markdown]

Measured, in the same run, interleaved over --passes (medians): weft-bench-data-parallel alone
(one process, one thread, the model's global batch G) and under `mpirun -np 2` (two processes of
one thread, G/2 each). It reports the bytes the step all-reduces, the 1 -> 2 process efficiency
at the same global batch, t1 / (2 t2), and the time of an all_reduce of those bytes between the
two processes (shared memory).

Projected (weak scaling: every one of N ranks keeps the example's batch G, so its compute is the
single process's step time t; its forward time f is measured too, and the backward b = t - f):

    ring all_reduce of one bucket of s bytes:  2 (N-1)/N * s / bandwidth  +  2 (N-1) * alpha

(a ring takes 2(N-1) steps, each paying the link latency alpha). Without overlap a step takes
t + the sum over its buckets. With overlap, bucket j of k is ready at f + b j/k (the backward
produces gradients evenly, last layers first) and the reductions run one after another as soon
as their bucket is ready; the step ends when the backward and the last reduction have. The
table shows both: one 25 MiB bucket (weft's default, as PyTorch DDP's: these models fit in one,
so nothing overlaps) and buckets of --bucket-kib (default 16 KiB). alpha is 25 us at 10 Gb/s
(TCP over Ethernet) and 2 us at 100 Gb/s (RDMA): assumptions, printed with the table.
"""
import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys

LINKS = [(10, 25e-6), (100, 2e-6)]  # Gb/s, alpha (s)
RANKS = [8, 16, 32, 64, 128, 256, 512, 1024]


def run(argv, env=None):
    p = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    lines = p.stdout.strip().splitlines()
    if p.returncode != 0 or not lines:
        sys.exit(f"data_parallel.py: {' '.join(argv)} failed:\n{p.stderr.strip()}")
    return {k: v for k, v in (f.split("=") for f in lines[-1].split())}


def ring_seconds(bytes_, n, gbps, alpha):
    return 2 * (n - 1) / n * bytes_ / (gbps * 1e9 / 8) + 2 * (n - 1) * alpha


def step_seconds(t, f, buckets, n, gbps, alpha, overlap):
    """A step of N ranks: compute t (forward f), then or overlapped with the buckets' reductions."""
    comm = [ring_seconds(s, n, gbps, alpha) for s in buckets]
    if not overlap:
        return t + sum(comm)
    b, k, end = t - f, len(buckets), 0.0
    for j, c in enumerate(comm, 1):
        end = max(end, f + b * j / k) + c
    return max(t, end)


def split(total, size):
    k = max(1, math.ceil(total / size))
    return [total / k] * k


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(here, "..", "build", "release"))
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--models", default="adding,sort-letters")
    ap.add_argument("--mpirun", default=shutil.which("mpirun") or "mpirun")
    ap.add_argument("--bucket-kib", type=float, default=16)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    prog = os.path.join(args.build, "bench", "weft-bench-data-parallel")
    flags = ["-np", "2", "--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
    # One thread per process: two processes use the 2 cores the single process gets one of.
    env = {"OMPI_MCA_mpi_yield_when_idle": "1"}

    rows = []
    for model in args.models.split(","):
        base = [prog, "--model", model, "--steps", str(args.steps), "--threads", "1"]
        alone, pair = [], []
        for p in range(args.passes):
            order = [lambda: alone.append(run(base)),
                     lambda: pair.append(run([args.mpirun] + flags + base, env))]
            for go in order[p % 2:] + order[:p % 2]:
                go()
        med = lambda rs, k: statistics.median(float(r[k]) for r in rs)
        t1, f1 = med(alone, "step_us") / 1e6, med(alone, "forward_us") / 1e6
        t2, ar2 = med(pair, "step_us") / 1e6, med(pair, "allreduce_us") / 1e6
        rows.append(dict(model=model, batch=int(alone[0]["batch"]), params=int(alone[0]["params"]),
                         bytes=int(alone[0]["bytes"]), t1=t1, f1=f1, t2=t2, ar2=ar2))

    print("## Measured here (1 thread per process)\n")
    print("| model | global batch | parameters | bytes all-reduced per step | step, 1 process | "
          "step, 2 processes | 1 -> 2 efficiency | all_reduce of those bytes, 2 processes |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['batch']} | {r['params']:,} | {r['bytes']:,} | "
              f"{r['t1'] * 1e3:.2f} ms | {r['t2'] * 1e3:.2f} ms | {r['t1'] / (2 * r['t2']):.0%} | "
              f"{r['ar2'] * 1e6:.0f} us |")

    small = args.bucket_kib * 1024
    print(f"\n## Projected: ring all-reduce, every rank at the model's batch (weak scaling)\n")
    print("alpha (per ring step): " + ", ".join(f"{a * 1e6:g} us at {g} Gb/s" for g, a in LINKS) +
          f". Efficiency = one process's step / a step on N ranks; 'overlap' uses "
          f"{args.bucket_kib:g} KiB buckets reduced while the backward runs.\n")
    head = "| model | N | " + " | ".join(
        f"{g} Gb/s: all-reduce | {g} Gb/s: efficiency, one bucket / overlap" for g, _ in LINKS) + " |"
    print(head)
    print("|---|---|" + "---|---|" * len(LINKS))
    worst = {}  # (model, Gb/s) -> the first N where neither layout keeps 90%
    for r in rows:
        for n in RANKS:
            cells = []
            for g, a in LINKS:
                comm = ring_seconds(r["bytes"], n, g, a)
                one = r["t1"] / step_seconds(r["t1"], r["f1"], [r["bytes"]], n, g, a, False)
                ov = r["t1"] / step_seconds(r["t1"], r["f1"], split(r["bytes"], small), n, g, a,
                                            True)
                cells.append(f"{comm * 1e3:.2f} ms | {one:.0%} / {ov:.0%}")
                if max(one, ov) < 0.9:
                    worst.setdefault((r["model"], g), (n, 2 * (n - 1) * a / comm))
            print(f"| {r['model']} | {n} | " + " | ".join(cells) + " |")
    print()
    for r in rows:
        for g, _ in LINKS:
            if (r["model"], g) not in worst:
                print(f"- {r['model']} at {g} Gb/s: at least 90% efficiency up to 1024 ranks.")
                continue
            n, latency = worst[(r["model"], g)]
            print(f"- {r['model']} at {g} Gb/s: below 90% from {n} ranks on, where the ring's "
                  f"latency is {latency:.0%} of the all-reduce: "
                  + ("smaller buckets only add latency, and the reduction outlasts the backward "
                     "it could hide behind." if latency > 0.5 else
                     "the bytes themselves outlast the backward it could hide behind."))


if __name__ == "__main__":
    main()
