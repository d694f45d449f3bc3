#!/usr/bin/env python3
"""Writes PyTorch's weights, inputs and outputs of small attention layers for
tests/unit/frontend/nn/AttentionParityTest.cpp, one safetensors file per case.

Run with the project's venv (torch 2, safetensors):
  /work/venv/bin/python tests/data/nn_attention/make_fixtures.py
Each <case>.safetensors holds
  <state_dict name>   the weights, float32, exactly as module.state_dict() names them
  in.<name>           the inputs: float32 tensors, int64 lengths
  out.<name>          PyTorch's results, float64
The weights and inputs are drawn in float32 (every parameter, biases and norms included,
uniform in [-0.5, 0.5) so that none is trivially zero or one); the module then runs in float64
on those values, in eval mode (no dropout), so a float32 run of weft can be held to 1e-5.
Lengths mark key padding: PyTorch's key_padding_mask is -inf at t >= length. Causal
masks are the float -inf upper triangle (nn.Transformer.generate_square_subsequent_mask).
PyTorch's fused eval fast path is switched off: it returns nested tensors for padded inputs.
"""
import os

import numpy as np
import torch
from safetensors.numpy import save_file
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
E, HEADS, FF = 8, 2, 12
torch.backends.mha.set_fastpath_enabled(False)


def padding(lengths, L):
    """The float key_padding_mask: -inf at t >= length (float, like the causal mask)."""
    pad = torch.arange(L)[None, :] >= torch.tensor(lengths)[:, None]
    return torch.zeros(pad.shape, dtype=torch.float64).masked_fill(pad, float("-inf"))


def causal(L):
    return nn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64)


def reinit(module, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-0.5, 0.5)
    return {k: v.detach().numpy().astype(np.float32).copy() for k, v in module.state_dict().items()}


def rand(*shape):
    return (torch.rand(*shape) * 2 - 1).float()


def save(name, tensors):
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()},
              os.path.join(HERE, name + ".safetensors"))


def mha_self_causal():
    """Self-attention, sequence-major [L, B, E], causal and key padding by lengths."""
    L, B, lengths = 5, 3, [5, 2, 4]
    m = nn.MultiheadAttention(E, HEADS)
    sd = reinit(m, 1)
    x = rand(L, B, E)
    m = m.double().eval()
    xd = x.double()
    out, w = m(xd, xd, xd, key_padding_mask=padding(lengths, L), attn_mask=causal(L))
    save("mha_self_causal", {**sd, "in.x": x.numpy(), "in.lengths": np.array(lengths, np.int64),
                             "out.output": out.detach().numpy(), "out.weights": w.detach().numpy()})


def mha_cross_batch_first():
    """Cross-attention, batch_first, Lq != Lk, key padding by lengths."""
    B, Lq, Lk, lengths = 2, 3, 6, [6, 4]
    m = nn.MultiheadAttention(E, HEADS, batch_first=True)
    sd = reinit(m, 2)
    q, k, v = rand(B, Lq, E), rand(B, Lk, E), rand(B, Lk, E)
    m = m.double().eval()
    out, w = m(q.double(), k.double(), v.double(), key_padding_mask=padding(lengths, Lk))
    save("mha_cross_batch_first",
         {**sd, "in.q": q.numpy(), "in.k": k.numpy(), "in.v": v.numpy(),
          "in.lengths": np.array(lengths, np.int64),
          "out.output": out.detach().numpy(), "out.weights": w.detach().numpy()})


def encoder(name, seed, **kw):
    L, B, lengths = 5, 3, [5, 3, 4]
    m = nn.TransformerEncoderLayer(E, HEADS, dim_feedforward=FF, **kw)
    sd = reinit(m, seed)
    x = rand(L, B, E)
    m = m.double().eval()
    out = m(x.double(), src_mask=causal(L), src_key_padding_mask=padding(lengths, L))
    save(name, {**sd, "in.x": x.numpy(), "in.lengths": np.array(lengths, np.int64),
                "out.output": out.detach().numpy()})


def decoder(name, seed, **kw):
    Lt, Ls, B, lengths = 4, 6, 2, [6, 3]
    m = nn.TransformerDecoderLayer(E, HEADS, dim_feedforward=FF, **kw)
    sd = reinit(m, seed)
    tgt, memory = rand(Lt, B, E), rand(Ls, B, E)
    m = m.double().eval()
    out = m(tgt.double(), memory.double(), tgt_mask=causal(Lt),
            memory_key_padding_mask=padding(lengths, Ls))
    save(name, {**sd, "in.tgt": tgt.numpy(), "in.memory": memory.numpy(),
                "in.lengths": np.array(lengths, np.int64), "out.output": out.detach().numpy()})


if __name__ == "__main__":
    mha_self_causal()
    mha_cross_batch_first()
    encoder("encoder_post_norm", 3)
    encoder("encoder_pre_norm_gelu", 4, norm_first=True, activation="gelu")
    decoder("decoder_post_norm", 5)
    decoder("decoder_pre_norm", 6, norm_first=True)
