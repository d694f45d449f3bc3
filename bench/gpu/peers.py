#!/usr/bin/env python3
"""The GPU round's PyTorch peers (bench/gpu/run.sh), on the same GPU as weft's programs.

Prints one line per measurement, `peer NAME ms M calls N mode MODE`, the median of timed calls
(CUDA events around each, after warm-up), for:
  lstm_inference   nn.LSTM(512, 512) over T=100, B=64, no grad (cuDNN)
  lstm_train       its forward, mean-square loss, backward and an Adam step (cuDNN)
  sdpa_f32         scaled_dot_product_attention, B=8, 8 heads, T=2048, d=64, f32, TF32 off
  sdpa_tf32        the same with TF32 allowed (what PyTorch picks for f32 inputs then)
PyTorch's defaults otherwise (cuDNN may use TF32 for the LSTM: torch.backends.cudnn.allow_tf32
is True by default); each line says which.
"""
import argparse
import statistics
import sys


def timed(torch, fn, seconds):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    import time
    end = time.time() + seconds
    while len(times) < 5 or (time.time() < end and len(times) < 200):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return statistics.median(times), len(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print("peers.py: PyTorch is missing; no peer was measured", file=sys.stderr)
        return 3
    if not torch.cuda.is_available():
        print("peers.py: PyTorch sees no CUDA device; no peer was measured", file=sys.stderr)
        return 3
    dev = torch.device("cuda")
    torch.manual_seed(0)
    cudnn_mode = "cudnn tf32=%s" % torch.backends.cudnn.allow_tf32

    lstm = torch.nn.LSTM(512, 512).to(dev)
    x = torch.rand(100, 64, 512, device=dev) * 0.1

    def lstm_inference():
        with torch.no_grad():
            lstm(x)

    ms, n = timed(torch, lstm_inference, args.seconds)
    print(f"peer lstm_inference ms {ms:.4f} calls {n} mode {cudnn_mode}", flush=True)

    opt = torch.optim.Adam(lstm.parameters(), lr=1e-3)

    def lstm_train():
        opt.zero_grad(set_to_none=True)
        hs, _ = lstm(x)
        loss = (hs * hs).mean()
        loss.backward()
        opt.step()

    ms, n = timed(torch, lstm_train, args.seconds)
    print(f"peer lstm_train ms {ms:.4f} calls {n} mode {cudnn_mode}", flush=True)

    q, k, v = (torch.rand(8, 8, 2048, 64, device=dev) for _ in range(3))
    sdpa = torch.nn.functional.scaled_dot_product_attention
    for name, tf32 in (("sdpa_f32", False), ("sdpa_tf32", True)):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        ms, n = timed(torch, lambda: sdpa(q, k, v), args.seconds)
        print(f"peer {name} ms {ms:.4f} calls {n} mode tf32={tf32}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
