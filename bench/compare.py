#!/usr/bin/env python3
"""One command that runs weft and every peer on a workload in the same run and prints ratios.

  bench/compare.py [--build DIR] [--passes P] [--threads 1,2] [SUITE ...]

Suites: lstm-inference (one LSTM layer forward, T x B x I x H = 100 x 64 x 256 x 256 and
100 x 64 x 512 x 512; peers oneDNN, PyTorch eager and torch.compile, JAX jit) and lstm-train
(the training step of one LSTM layer with a linear readout, MSE and Adam, I = H = 256, B = 64,
T = 100; peers PyTorch eager and torch.compile, JAX jit); gru-inference, gru-train,
rnn-inference, rnn-train (one GRU or tanh RNN layer, I = H = 256 and 512, B = 64, T = 100;
peers PyTorch eager and torch.compile, JAX jit; inference also weft with the fused op run as
its scan, the path before the cpu's kernels); seq2seq (the sort-letters encoder-decoder of
examples/models/SortLettersModel.h: its Adam training step and its greedy decoding of a batch
of 128 words; peers PyTorch eager and torch.compile) and attention (B 8, 8 heads, d 64, T 512
and 2048, causal and not, forward and forward + backward; peers PyTorch's own ops eager and
torch.compile, and its scaled_dot_product_attention; flops in attention_suite; a memory table
follows). Default: all.

Each pass runs every contender once per shape and thread count, in an order that rotates from
pass to pass, so that a change in the machine's load falls on all of them alike; each contender
reports its own median over about half a second of calls, and the table shows the median over
the passes. The machine's f32 FMA peak (weft-bench-peak) is measured in the same passes, and
every time is also shown as the fraction of that peak it reaches (GEMM flops only: 8·T·B·(I+H)·H
for the forward layer, three times that for a training step).

Speed ratios are peer time / weft time: above 1, weft is faster. PyTorch runs with
OMP_WAIT_POLICY=PASSIVE and glibc's allocator holding on to freed memory (its best
configuration on this machine); JAX runs under taskset with XLA's pool held to the thread
count. A peer that cannot run (no torch, no jax, no oneDNN build) is shown as n/a, with the
reason on stderr. Python peers run with --python (default: this interpreter).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TORCH_ENV = {"OMP_WAIT_POLICY": "PASSIVE", "MALLOC_MMAP_MAX_": "0",
             "MALLOC_TRIM_THRESHOLD_": "10000000000"}


class Contender:
    """A program printing one --raw line whose field `field` is microseconds per call."""

    def __init__(self, name, argv, field=-1, env=None, pin=False, mem=None):
        self.name, self.argv, self.field, self.env, self.pin = name, argv, field, env or {}, pin
        self.mem = mem  # the field of bytes of memory the call took, where it reports one
        self.failed = None
        self.memory = {}  # threads -> [bytes per pass]

    def run(self, threads):
        if self.failed:
            return None
        argv = [a.replace("{threads}", str(threads)) for a in self.argv]
        if self.pin and shutil.which("taskset"):
            argv = ["taskset", "-c", ",".join(str(c) for c in range(threads))] + argv
        env = dict(os.environ, **self.env)
        p = subprocess.run(argv, capture_output=True, text=True, env=env)
        lines = p.stdout.strip().splitlines()
        if p.returncode != 0 or not lines:
            self.failed = (p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1]
            print(f"compare.py: {self.name}: {self.failed}", file=sys.stderr)
            return None
        fields = lines[-1].split()
        if self.mem is not None and int(fields[self.mem]) >= 0:
            self.memory.setdefault(threads, []).append(int(fields[self.mem]))
        return float(fields[self.field])


def suites(build, py):
    bench = os.path.join(build, "bench")
    torch_env = TORCH_ENV

    def tool(name):
        return os.path.join(bench, name)

    inference = []
    for shape in ["100x64x256x256", "100x64x512x512"]:
        T, B, I, H = (int(v) for v in shape.split("x"))
        inference.append((f"LSTM inference {shape}", 8 * T * B * (I + H) * H, [
            Contender("weft", [tool("weft-bench-lstm-seq"), "--raw", "--threads", "{threads}",
                               shape]),
            Contender("oneDNN", [tool("weft-bench-lstm-onednn"), "--raw", "--threads",
                                 "{threads}", shape]),
            Contender("PyTorch eager", [py, os.path.join(HERE, "lstm_seq_torch.py"), "--raw",
                                        "--threads", "{threads}", shape], env=torch_env),
            Contender("torch.compile", [py, os.path.join(HERE, "lstm_seq_torch.py"), "--raw",
                                        "--compile", "--threads", "{threads}", shape],
                      env=torch_env),
            Contender("JAX jit", [py, os.path.join(HERE, "lstm_jax.py"), "seq", "--raw",
                                  "--threads", "{threads}", shape], pin=True),
        ]))
    H, B, T = 256, 64, 100
    train_args = ["--hidden", str(H), "--batch", str(B), "--length", str(T)]
    training = [(f"LSTM training step {T}x{B}x{H}x{H}", 3 * 8 * T * B * 2 * H * H, [
        Contender("weft", [tool("weft-bench-trainer-overhead"), "--raw", "--threads",
                           "{threads}", "--hidden", str(H), "--steps", "6", "--rounds", "3"],
                  field=4),
        # The same step with lstm_sequence_grad recomputing the gates (no save-lstm-gates).
        Contender("weft recompute gates", [tool("weft-bench-trainer-overhead"), "--raw",
                                           "--threads", "{threads}", "--hidden", str(H), "--steps",
                                           "6", "--rounds", "3", "--save-gates", "0"], field=4),
        # The same step differentiating nn::LSTM's scan (BPTT) instead of lstm_sequence_grad.
        Contender("weft scan BPTT", [tool("weft-bench-trainer-overhead"), "--raw", "--threads",
                                     "{threads}", "--hidden", str(H), "--steps", "6", "--rounds",
                                     "3", "--unfused", "1"], field=4),
        Contender("PyTorch eager", [py, os.path.join(HERE, "lstm_train_torch.py"), "--raw",
                                    "--threads", "{threads}"] + train_args, env=torch_env),
        Contender("torch.compile", [py, os.path.join(HERE, "lstm_train_torch.py"), "--raw",
                                    "--compile", "--threads", "{threads}"] + train_args,
                  env=torch_env),
        Contender("JAX jit", [py, os.path.join(HERE, "lstm_jax.py"), "train", "--raw",
                              "--threads", "{threads}"] + train_args, pin=True),
    ])]
    table = {"lstm-inference": inference, "lstm-train": training, "seq2seq": seq2seq(tool, py),
             "attention": attention_suite(tool, py)}
    table.update(gru_rnn_suites(tool, py, torch_env))
    return table


def seq2seq_flops():
    """GEMM flops of the sort-letters model's forward pass on its benchmark batch: two stacked
    LSTMs (layer inputs E then H) over S source and T target steps, 8·B·(I+H)·H flops per layer
    and step, and the dense layer, 2·T·B·H·V."""
    B, S, T, E, H, V = 128, 7, 8, 15, 50, 30
    layers = 8 * B * ((E + H) + (H + H)) * H
    return layers * (S + T) + 2 * T * B * H * V


def seq2seq(tool, py):
    """The sort-letters training step (forward and backward: 3x the forward's flops) and its
    greedy decoding of the batch (T steps: the words are drawn at random and the model is
    untrained, so no batch finishes early in either framework). The decoder is compiled after
    weft's `optimize` passes, and also as built (no passes, as the example compiles it now)."""
    peer = os.path.join(HERE, "seq2seq_torch.py")
    work = []
    for mode, label, flops in [("train", "seq2seq training step", 3 * seq2seq_flops()),
                               ("decode", "seq2seq greedy decode", seq2seq_flops())]:
        unoptimized = [] if mode == "train" else [
            Contender("weft, no passes", [tool("weft-bench-seq2seq"), "--raw", "--mode", mode,
                                          "--decoder-passes", "none", "--threads", "{threads}"])]
        work.append((f"{label} B128 S7 T8 H50", flops, unoptimized + [
            Contender("weft", [tool("weft-bench-seq2seq"), "--raw", "--mode", mode,
                               "--threads", "{threads}"]),
            Contender("PyTorch eager", [py, peer, "--raw", "--mode", mode,
                                        "--threads", "{threads}"], env=TORCH_ENV),
            Contender("torch.compile", [py, peer, "--raw", "--compile", "--mode", mode,
                                        "--threads", "{threads}"], env=TORCH_ENV),
        ]))
    return work


def attention_suite(tool, py):
    """Attention at B 8, 8 heads, d 64, T 512 and 2048, causal and not, forward and forward +
    backward: weft's fused kernel against PyTorch's own ops (eager, torch.compile) and its
    scaled_dot_product_attention. Flops: 4·B·H·T²·d forward (q kᵀ and p v), 2.5 times that more
    for the backward (FlashAttention's count: s recomputed, dv, dp, dq, dk), halved for causal.
    The times' lines carry each contender's memory too (field `mem`)."""
    work = []
    for train in (False, True):
        for causal in (False, True):
            for shape in ["8x8x512x64", "8x8x2048x64"]:
                B, H, T, d = (int(x) for x in shape.split("x"))
                flops = 4 * B * H * T * T * d * (3.5 if train else 1) / (2 if causal else 1)
                flags = (["--causal"] if causal else []) + (["--train"] if train else [])
                label = (f"attention {'fwd+bwd' if train else 'forward'} "
                         f"{'causal' if causal else 'full'} {shape}")
                peer = [py, os.path.join(HERE, "attention_torch.py"), "--raw", "--threads",
                        "{threads}"] + flags
                work.append((label, flops, [
                    Contender("weft", [tool("weft-bench-attention"), "--raw", "--threads",
                                       "{threads}"] + flags + [shape], field=7, mem=9),
                    Contender("PyTorch eager", peer + ["--impl", "eager", shape], field=7,
                              mem=8, env=TORCH_ENV),
                    Contender("torch.compile", peer + ["--impl", "compile", shape], field=7,
                              mem=8, env=TORCH_ENV),
                    Contender("PyTorch SDPA", peer + ["--impl", "sdpa", shape], field=7,
                              mem=8, env=TORCH_ENV),
                ]))
    return work


def gru_rnn_suites(tool, py, torch_env):
    """gru-inference, gru-train, rnn-inference, rnn-train: one nn.GRU (PyTorch's form) or tanh
    nn.RNN layer, I = H = 256 and 512, B = 64, T = 100; the training step adds a linear readout
    of h_n, MSE and Adam. Peers PyTorch eager and torch.compile (bench/rnn_torch.py) and JAX jit
    (bench/rnn_jax.py); both also time weft's expanded scan (--expanded). GEMM flops:
    2·T·B·(I+H)·G·H for the forward (G = 3 gates for the GRU, 1 for the RNN), three times that
    for a training step."""
    table = {}
    for cell, gates in (("gru", 3), ("rnn", 1)):
        for mode in ("infer", "train"):
            rows = []
            for shape in ["100x64x256x256", "100x64x512x512"]:
                T, B, I, H = (int(v) for v in shape.split("x"))
                flops = 2 * T * B * (I + H) * gates * H * (3 if mode == "train" else 1)
                args = ["--cell", cell, "--mode", mode, "--raw", "--threads", "{threads}", shape]
                peer = [py, os.path.join(HERE, "rnn_torch.py")] + args
                expanded = [Contender("weft, expanded scan",
                                      [tool("weft-bench-rnn"), "--expanded"] + args)]
                if cell == "gru" and mode == "train":
                    # The fused gradient recomputing the gates (no save-gru-gates).
                    expanded.append(Contender("weft, gates recomputed",
                                              [tool("weft-bench-rnn"), "--recompute"] + args))
                rows.append((f"{cell.upper()} {'inference' if mode == 'infer' else 'training step'}"
                             f" {shape}", flops, [
                                 Contender("weft", [tool("weft-bench-rnn")] + args),
                                 Contender("PyTorch eager", peer, env=torch_env),
                                 Contender("torch.compile", peer + ["--compile"], env=torch_env),
                                 Contender("JAX jit", [py, os.path.join(HERE, "rnn_jax.py")] + args,
                                           pin=True),
                             ] + expanded))
            table[f"{cell}-{'inference' if mode == 'infer' else 'train'}"] = rows
    return table


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build", "release"))
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time the process CPU time of a call (for a loaded machine; the "
                         "benches using BenchTiming.h and torch_peer.py honour it)")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("suite", nargs="*")
    a = ap.parse_args()
    table = suites(a.build, a.python)
    chosen = a.suite or list(table)
    unknown = [s for s in chosen if s not in table]
    if unknown:
        sys.exit(f"compare.py: unknown suite {unknown[0]!r}; known: {', '.join(table)}")
    threads = [int(t) for t in a.threads.split(",")]
    if a.cpu_time:
        os.environ["WEFT_BENCH_CLOCK"] = "cpu"  # inherited by every contender
    peak_tool = os.path.join(a.build, "bench", "weft-bench-peak")
    if not os.access(peak_tool, os.X_OK):
        sys.exit(f"compare.py: {peak_tool} not found; build the benchmarks first "
                 "(scripts/build.sh release)")

    work = [(label, flops, c) for s in chosen for label, flops, c in table[s]]
    times = {}  # (label, threads, contender name) -> [us per pass]
    peaks = {t: [] for t in threads}
    for p in range(a.passes):
        for t in threads:
            out = subprocess.run([peak_tool, "--raw", str(t)], capture_output=True, text=True)
            peaks[t].append(float(out.stdout.split()[1]))
        for label, _, contenders in work:
            for t in threads:
                k = p % len(contenders)
                for c in contenders[k:] + contenders[:k]:
                    us = c.run(t)
                    if us is not None:
                        times.setdefault((label, t, c.name), []).append(us)
        print(f"compare.py: pass {p + 1}/{a.passes} done", file=sys.stderr)

    print(f"{a.passes} passes, medians of {'CPU' if a.cpu_time else 'wall'} time per call; "
          f"{os.cpu_count()} CPUs; speed = peer time / weft time "
          "(> 1: weft faster); % = fraction of the measured f32 FMA peak")
    for t in threads:
        print(f"f32 FMA peak, {t} thread(s): {max(peaks[t]):.1f} GFLOP/s")
    for label, flops, contenders in work:
        for t in threads:
            peak = max(peaks[t]) * 1e3  # GFLOP/s -> flops per microsecond
            weft = times.get((label, t, "weft"))
            w = statistics.median(weft) if weft else None
            cells = []
            for c in contenders:
                ts = times.get((label, t, c.name))
                if not ts:
                    cells.append(f"{c.name} n/a")
                    continue
                us = statistics.median(ts)
                cell = f"{c.name} {us / 1e3:.2f} ms ({100 * flops / us / peak:.0f}%)"
                if c.name != "weft" and w:
                    cell += f" weft {us / w:.2f}x"
                cells.append(cell)
            print(f"{label}, {t} thr: " + "; ".join(cells))
    memory_table(work, threads)


def memory_table(work, threads):
    """The median memory of each contender that reports one, per workload, at the most threads:
    the growth of its resident set over the timed calls (weft-bench-attention prints its buffer
    plan's peak as well)."""
    rows = [(label, c) for label, _, cs in work for c in cs if c.memory]
    if not rows:
        return
    t = max(threads)
    print(f"memory, {t} thr (MiB: resident growth over the timed calls)")
    for label, c in rows:
        if c.memory.get(t):
            print(f"  {label}: {c.name} {statistics.median(c.memory[t]) / 2**20:.1f}")


if __name__ == "__main__":
    main()
