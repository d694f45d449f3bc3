#!/usr/bin/env python3
"""The PyTorch peer of weft-bench-seq2seq: the sort-letters encoder-decoder (embedding 15,
2-layer nn.LSTM encoder of 50, 2-layer nn.LSTM decoder of 50 started from the encoder's final
state, nn.Linear over 30 ids) on a seeded batch of 128 words of 1 to 7 letters (S = 7, T = 8).

  train:  teacher forcing (<BOS> then the target shifted right), cross-entropy averaged over
          the real target tokens, backward, gradients clipped at norm 5, torch.optim.Adam 0.001;
  decode: greedy decoding under no_grad, the argmax embedded and fed back, stopping when every
          word has emitted <EOS> or after T steps.

Eager, or with --compile torch.compile'd (the training step whole; for decoding the encoder and
the decoder's step, the loop and its early stop staying in Python). The encoder reads the
padded batch through pack_padded_sequence, so that its final state is each word's own last
step, as weft's encoder with lengths gives it.

Usage: seq2seq_torch.py [--mode train|decode] [--threads N] [--compile] [--raw] [--cpu-time]
--raw prints "mode B S T threads microseconds_per_call", the line bench/compare.py reads.
--cpu-time times calls in the process's CPU time, as weft-bench-seq2seq --cpu-time does.
"""
import argparse
import os
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_peer  # noqa: E402

PAD, BOS, EOS, SPECIALS, LETTERS = 0, 2, 3, 4, 26
VOCAB, EMBEDDING, HIDDEN, LAYERS, BATCH, LONGEST = SPECIALS + LETTERS, 15, 50, 2, 128, 7


class SortLetters(nn.Module):
    def __init__(self):
        super().__init__()
        self.source_embedding = nn.Embedding(VOCAB, EMBEDDING)
        self.encoder = nn.LSTM(EMBEDDING, HIDDEN, LAYERS)
        self.target_embedding = nn.Embedding(VOCAB, EMBEDDING)
        self.decoder = nn.LSTM(EMBEDDING, HIDDEN, LAYERS)
        self.output = nn.Linear(HIDDEN, VOCAB)

    def encode(self, source, lengths):
        packed = nn.utils.rnn.pack_padded_sequence(self.source_embedding(source), lengths,
                                                   enforce_sorted=False)
        _, state = self.encoder(packed)
        return state

    def loss(self, source, source_lengths, targets):
        state = self.encode(source, source_lengths)
        shifted = torch.cat([torch.full_like(targets[:1], BOS), targets[:-1]])
        hs, _ = self.decoder(self.target_embedding(shifted), state)
        logits = self.output(hs)
        losses = nn.functional.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1),
                                             reduction="none")
        real = (targets.reshape(-1) != PAD).float()
        return (losses * real).sum() / real.sum()

    def decode_step(self, ids, state):
        hs, state = self.decoder(self.target_embedding(ids).unsqueeze(0), state)
        return self.output(hs[0]).argmax(-1), state


def make_batch():
    """Words of 1 to 7 letters (the first 7 long), their sorted letters then <EOS>, time-major."""
    g = torch.Generator().manual_seed(1)
    lengths = torch.randint(1, LONGEST + 1, (BATCH,), generator=g)
    lengths[0] = LONGEST
    source = torch.zeros(LONGEST, BATCH, dtype=torch.long)
    targets = torch.zeros(LONGEST + 1, BATCH, dtype=torch.long)
    for b, n in enumerate(lengths.tolist()):
        word = torch.randint(SPECIALS, VOCAB, (n,), generator=g)
        source[:n, b] = word
        targets[:n, b] = word.sort().values
        targets[n, b] = EOS
    return source, lengths, targets


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=["train", "decode"], default="train")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--cpu-time", action="store_true")
    a = ap.parse_args()
    torch_peer.set_threads(a.threads)
    torch_peer.warn_if_uncontrolled("seq2seq_torch.py")
    torch.manual_seed(1)
    model = SortLetters()
    source, source_lengths, targets = make_batch()
    T = targets.shape[0]

    if a.mode == "train":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def call():
            opt.zero_grad(set_to_none=True)
            loss = model.loss(source, source_lengths, targets)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            return loss
        if a.compile:
            call = torch.compile(call)
    else:
        encode = torch.compile(model.encode) if a.compile else model.encode
        step = torch.compile(model.decode_step) if a.compile else model.decode_step

        @torch.no_grad()
        def call():
            state = encode(source, source_lengths)
            ids = torch.full((BATCH,), BOS, dtype=torch.long)
            finished = torch.zeros(BATCH, dtype=torch.bool)
            out = []
            for _ in range(T):
                ids, state = step(ids, state)
                out.append(ids)
                finished |= ids == EOS
                if bool(finished.all()):
                    break
            return torch.stack(out)

    us = torch_peer.micros_per_call(
        call, clock=time.process_time if a.cpu_time else time.perf_counter)
    if a.raw:
        print(f"{a.mode} {BATCH} {LONGEST} {T} {a.threads} {us:.1f}")
        return
    what = "training step (Adam)" if a.mode == "train" else "greedy decode"
    mode = "torch.compile" if a.compile else "eager"
    print(f"PyTorch {torch.__version__} {mode}, {a.threads} thread(s): sort-letters {what}, "
          f"B = {BATCH}, S = {LONGEST}, T = {T}: {us:.1f} us per call")


if __name__ == "__main__":
    main()
