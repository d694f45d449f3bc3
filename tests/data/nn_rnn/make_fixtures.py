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
The cell cases (rnn_cell, lstm_cell, gru_cell) hold one step of torch.nn.RNNCell / LSTMCell /
GRUCell: weights, x [B, I], h (and c) [B, H], and h_next (and c_next), float64. gru_cell also
holds h_next_reset_before: the same step in the GRU's original form (Cho et al. 2014),
n = tanh(W_in x + b_in + W_hn (r * h) + b_hn), which PyTorch does not offer, computed here
with NumPy in float64.
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


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def make_cell_case(name, cell, seed):
    torch.manual_seed(seed)
    for p in cell.parameters():  # reinitialize from this case's seed, PyTorch's default way
        bound = 1.0 / np.sqrt(cell.hidden_size)
        nn.init.uniform_(p, -bound, bound)
    for k, v in cell.state_dict().items():
        save(name, k, v.detach().numpy().astype(np.float32))
    x = torch.rand(B, cell.input_size) * 2 - 1
    h = torch.rand(B, H) * 2 - 1
    save(name, "x", x.numpy())
    save(name, "h", h.numpy())
    cell = cell.double()
    if isinstance(cell, nn.LSTMCell):
        c = torch.rand(B, H) * 2 - 1
        save(name, "c", c.numpy())
        h2, c2 = cell(x.double(), (h.double(), c.double()))
        save(name, "c_next", c2.detach().numpy())
    else:
        h2 = cell(x.double(), h.double())
    save(name, "h_next", h2.detach().numpy())
    if isinstance(cell, nn.GRUCell):
        w = {k: v.detach().numpy() for k, v in cell.state_dict().items()}
        xd, hd = x.double().numpy(), h.double().numpy()
        gx = xd @ w["weight_ih"].T + w["bias_ih"]
        xr, xz, xn = np.split(gx, 3, axis=1)
        w_hr, w_hz, w_hn = np.split(w["weight_hh"], 3, axis=0)
        b_hr, b_hz, b_hn = np.split(w["bias_hh"], 3)
        r = sigmoid(xr + hd @ w_hr.T + b_hr)
        z = sigmoid(xz + hd @ w_hz.T + b_hz)
        n = np.tanh(xn + (r * hd) @ w_hn.T + b_hn)
        save(name, "h_next_reset_before", (1 - z) * n + z * hd)


def main():
    make_cell_case("rnn_cell", nn.RNNCell(I, H), seed=11)
    make_cell_case("lstm_cell", nn.LSTMCell(I, H), seed=12)
    make_cell_case("gru_cell", nn.GRUCell(I, H), seed=13)
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
