#!/usr/bin/env python3
"""Prints the GPU round's table (bench/gpu/run.sh): weft against its PyTorch peer per benchmark,
the ratio peer time / weft time (>= 1: weft at least as fast) and each one's fraction of the
GPU's peak.

usage: summary.py MANIFEST WEFT_RESULTS PEER_RESULTS GPU_NAME
"""
import sys

# Dense peaks in FLOP/s: f32 on the CUDA cores, and TF32 on the tensor cores (SXM parts).
PEAKS = {
    "H200": (66.9e12, 494.7e12),
    "H100": (66.9e12, 494.7e12),
    "A100": (19.5e12, 156e12),
}
# Which peer each weft benchmark is held against.
PEER_OF = {
    "lstm": "lstm_inference",
    "lstm_loss_step": "lstm_train",
    "attention": "sdpa_f32",
    "attention_fused": "sdpa_f32",
}


def read(path, prefix):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                w = line.split()
                if len(w) >= 4 and w[0] == prefix and w[2] == "ms":
                    out[w[1]] = (float(w[3]), " ".join(w[6:]) if len(w) > 6 else "")
                elif len(w) >= 2 and w[0] == "skipped":
                    out[w[1].rstrip(":")] = (None, " ".join(w[2:]))
    except FileNotFoundError:
        pass
    return out


def main():
    manifest, weft_path, peer_path, gpu = sys.argv[1:5]
    weft, peers = read(weft_path, "bench"), read(peer_path, "peer")
    peak = next((p for k, p in PEAKS.items() if k in gpu), None)
    print(f"GPU: {gpu}" + ("" if peak else " (peak unknown: no fractions of peak)"))
    print(f"{'benchmark':58} {'weft ms':>9} {'peer':>15} {'peer ms':>9} {'ratio':>6} "
          f"{'weft %peak':>10} {'peer %peak':>10}")
    for line in open(manifest):
        w = line.rstrip("\n").split("\t")
        if w[0] != "bench":
            continue
        fn, flops, label = w[1], float(w[2]), w[3]
        peer = PEER_OF.get(fn, "")
        wm = weft.get(fn, (None, "not run"))
        pm = peers.get(peer, (None, "not run"))
        if wm[0] is None:
            print(f"{label:58} skipped: {wm[1]}")
            continue

        def frac(ms, tensor_cores):
            if not peak or ms is None:
                return "n/a"
            return f"{100 * flops / (ms * 1e-3) / peak[1 if tensor_cores else 0]:.1f}%"

        ratio = f"{pm[0] / wm[0]:.2f}" if pm[0] else "n/a"
        peer_tc = "tf32=True" in pm[1]
        pms = f"{pm[0]:.3f}" if pm[0] else "n/a"
        print(f"{label:58} {wm[0]:9.3f} {peer:>15} {pms:>9} {ratio:>6} "
              f"{frac(wm[0], False):>10} {frac(pm[0], peer_tc):>10}")
    if "sdpa_tf32" in peers and peers["sdpa_tf32"][0]:
        print(f"(PyTorch SDPA with TF32 allowed: {peers['sdpa_tf32'][0]:.3f} ms)")
    print("weft % of the f32 peak (CUDA cores); a peer's against the TF32 peak where it ran TF32;"
          " weft's times include copying inputs and results over PCIe at each call")


if __name__ == "__main__":
    main()
