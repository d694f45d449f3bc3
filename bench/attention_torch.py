#!/usr/bin/env python3
"""Multi-head attention in PyTorch: the peer of weft-bench-attention.

q, k, v: [B, H, T, d] float32; o = softmax(q kᵀ / sqrt(d) (causal: -inf above the diagonal)) v,
computed three ways (--impl):
  eager    with torch's own ops: matmul, masked_fill, softmax, matmul
  compile  the same function under torch.compile
  sdpa     torch.nn.functional.scaled_dot_product_attention (is_causal for causal)
--train times the forward and backward of the loss sum(o * r) (dq, dk, dv), as weft's training
graph; otherwise the forward under torch.no_grad(). Median microseconds per call over about
0.5 s after a warm-up, at the thread count given (torch_peer.set_threads), and the growth of
the resident set from before the first call to the end (the high-water mark reset through
/proc/self/clear_refs after setup), as weft-bench-attention measures itself; -1 for compile.

--raw prints "B H T d causal train threads microseconds rss_bytes" per line.

Usage: attention_torch.py [--raw] [--threads N] [--causal] [--train] [--impl I] [BxHxTxD ...]
"""
import math
import sys

try:
    import torch
    import torch.nn.functional as F
    import torch_peer
except ImportError:
    sys.exit("attention_torch.py: cannot import torch with " + sys.executable)

DEFAULT_SHAPES = ["8x8x512x64", "8x8x2048x64"]


def own_ops(causal, T):
    """Attention from matmul and softmax, the causal mask made once outside the timed calls."""
    hidden = torch.ones(T, T, dtype=torch.bool).triu(1)

    def attend(q, k, v):
        s = torch.matmul(q, k.transpose(-2, -1)) * (1 / math.sqrt(q.shape[-1]))
        if causal:
            s = s.masked_fill(hidden, float("-inf"))
        return torch.matmul(torch.softmax(s, dim=-1), v)
    return attend


def sdpa(causal):
    return lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=causal)


def status_bytes(key):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def reset_high_water():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def bench_shape(shape, threads, impl, causal, train):
    B, H, T, d = shape
    torch_peer.set_threads(threads)
    torch.manual_seed(5)
    q, k, v, r = (torch.rand(B, H, T, d) * 2 - 1 for _ in range(4))
    attend = sdpa(causal) if impl == "sdpa" else own_ops(causal, T)
    if impl == "compile":
        attend = torch.compile(attend)
    if train:
        for x in (q, k, v):
            x.requires_grad_(True)

        def call():
            for x in (q, k, v):
                x.grad = None
            (attend(q, k, v) * r).sum().backward()
    else:
        def call():
            with torch.no_grad():
                attend(q, k, v)
    # The high-water mark is reset before the first call: glibc keeps what torch frees (the
    # MALLOC_ settings of compare.py), so later calls reuse it and add nothing. torch.compile's
    # first call compiles, which would count too: its memory is not measured (-1).
    measured = impl != "compile" and reset_high_water()
    before = status_bytes("VmRSS")
    call()
    us = torch_peer.micros_per_call(call, min_runs=3, max_runs=1000)
    rss = status_bytes("VmHWM") - before if measured else -1
    return us, rss


def main():
    ap = torch_peer.arguments("Multi-head attention in PyTorch (peer of weft).", "BxHxTxD")
    ap.add_argument("--impl", choices=["eager", "compile", "sdpa"], default="eager")
    ap.add_argument("--causal", action="store_true")
    ap.add_argument("--train", action="store_true", help="forward and backward")
    args = ap.parse_args()
    shapes = args.shapes or [ap.shape(s) for s in DEFAULT_SHAPES]
    thread_counts = [args.threads] if args.threads else [1, 2]
    torch_peer.warn_if_uncontrolled("attention_torch.py")
    if not args.raw:
        print(f"PyTorch {torch.__version__} attention ({args.impl}), causal {args.causal}, "
              f"train {args.train}: median microseconds, resident growth MiB")
    for shape in shapes:
        for t in thread_counts:
            us, rss = bench_shape(shape, t, args.impl, args.causal, args.train)
            if args.raw:
                print(f"{shape[0]} {shape[1]} {shape[2]} {shape[3]} {int(args.causal)} "
                      f"{int(args.train)} {t} {us:.1f} {rss}")
            else:
                print(f"{shape[0]:>3} {shape[1]:>3} {shape[2]:>5} {shape[3]:>4} {t:>3} "
                      f"{us:>12.1f} {rss / 2**20:>10.1f}")


if __name__ == "__main__":
    main()
