#!/usr/bin/env python3
"""Writes PyTorch's weights, inputs, outputs and gradients of small recurrent models for
tests/unit/frontend/nn/RnnParityTest.cpp.

Run with the project's venv (torch 2): `/work/venv/bin/python tests/data/nn_rnn/make_fixtures.py`.
Each case is a folder <case>/ next to this script, holding
  <state_dict name>.npy    the weights, float32, exactly as model.state_dict() names them
  x.npy                    the input, float32, time-major [T, B, I] (PyTorch's default layout)
  lengths.npy, h0.npy, c0.npy   when the case uses them (lengths int64; states float32)
  output.npy, h_n.npy, c_n.npy  PyTorch's results, float64
  r_output.npy, r_h_n.npy, r_c_n.npy   fixed random weights of the loss
                                       sum(output * r_output) + sum(h_n * r_h_n) + sum(c_n * r_c_n)
  grad/<state_dict name>.npy   d loss / d parameter, float64
The weights are drawn by PyTorch's own default initialization in float32; the forward and
backward passes then run in float64 on those same values, so the results are the exact answer
for the float32 inputs to ~1e-15 and a float32 run of weft can be held to 1e-5.
Cases with lengths run PyTorch on pack_padded_sequence (unsorted, enforce_sorted=False) and
pad_packed_sequence(total_length=T): padded outputs are zero, and the padded input steps hold
random values that a correct implementation never reads.
"""
import os

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

HERE = os.path.dirname(os.path.abspath(__file__))
T, B, I, H = 5, 3, 4, 5
LENGTHS = [3, 5, 1]  # unsorted on purpose


def save(folder, name, a):
    path = os.path.join(HERE, folder, name + ".npy")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.save(path, a, allow_pickle=False)


def make_case(name, model, seed, lengths=None, initial_state=False):
    torch.manual_seed(seed)
    for p in model.parameters():  # reinitialize from this case's seed, PyTorch's default way
        bound = 1.0 / np.sqrt(model.hidden_size)
        nn.init.uniform_(p, -bound, bound)
    for k, v in model.state_dict().items():
        save(name, k, v.detach().numpy().astype(np.float32))
    is_lstm = isinstance(model, nn.LSTM)
    dirs = 2 if model.bidirectional else 1
    x = torch.rand(T, B, model.input_size) * 2 - 1
    save(name, "x", x.numpy())
    state = None
    if initial_state:
        h0 = torch.rand(model.num_layers * dirs, B, H) * 2 - 1
        save(name, "h0", h0.numpy())
        state = h0.double()
        if is_lstm:
            c0 = torch.rand(model.num_layers * dirs, B, H) * 2 - 1
            save(name, "c0", c0.numpy())
            state = (h0.double(), c0.double())

    model = model.double()
    xd = x.double()
    if lengths is not None:
        save(name, "lengths", np.array(lengths, dtype=np.int64))
        packed = pack_padded_sequence(xd, torch.tensor(lengths), enforce_sorted=False)
        out, hn = model(packed, state)
        out, _ = pad_packed_sequence(out, total_length=T)
    else:
        out, hn = model(xd, state)
    results = {"output": out}
    if is_lstm:
        results["h_n"], results["c_n"] = hn
    else:
        results["h_n"] = hn
    loss = 0
    for k, v in results.items():
        save(name, k, v.detach().numpy())
        r = torch.rand(v.shape, dtype=torch.float64) * 2 - 1
        save(name, "r_" + k, r.numpy())
        loss = loss + (v * r).sum()
    loss.backward()
    for k, p in model.named_parameters():
        save(name, "grad/" + k, p.grad.numpy())


def main():
    make_case("rnn_tanh_h0", nn.RNN(I, H), seed=1, initial_state=True)
    make_case("rnn_relu_nobias", nn.RNN(I, H, num_layers=2, nonlinearity="relu", bias=False),
              seed=2)
    make_case("lstm_2layer", nn.LSTM(I, H, num_layers=2), seed=3)
    make_case("lstm_bi_lengths", nn.LSTM(I, H, num_layers=2, bidirectional=True), seed=4,
              lengths=LENGTHS, initial_state=True)
    make_case("gru_2layer", nn.GRU(I, H, num_layers=2), seed=5)
    make_case("gru_bi_lengths", nn.GRU(I, H, bidirectional=True), seed=6, lengths=LENGTHS)


if __name__ == "__main__":
    main()
