//===- frontend/nn/Dropout.h - inverted dropout ----------------------------===//
//
// In training mode each element of x is kept with probability 1 - p and scaled by 1 / (1 - p),
// else zeroed, so the expected output is x and evaluation needs no rescaling; in eval mode
// dropout is the identity (no op is built). p = 1 drops everything (zeros), as in PyTorch.
//
// Masks are a pure function of the scope's seed (Scope::withSeed, a tensor<i64> input of the
// graph) and of the site: the k-th dropout built from one root scope (Scope::nextRandomSite)
// draws random_uniform from stream seed * 0x9E3779B97F4B + k (wrapping i64 arithmetic; the
// generator hashes the stream number, see runtime/Random.h). So two sites of one root scope
// never share a mask (a model built from one root, as it should be: see Scope::nextRandomSite),
// the same seed gives the same masks on every backend, and a new seed per step gives new masks.
// The gradient flows through the same mask: d x = d y * mask / (1 - p).
//
//   nn::Scope s = nn::Scope(g, nn::Mode::Train).withSeed(g.input("seed", {}, DType::I64));
//   Tensor y = nn::dropout(s, x, 0.5);
//
// In a training step built by optimize-step, stepSeed(g, seed) makes the seed a function of the
// step counter, so each step draws new masks and a run resumed from a checkpoint draws the masks
// the uninterrupted run drew:
//
//   nn::Scope s = nn::Scope(g, nn::Mode::Train).withSeed(nn::stepSeed(g, 7));
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/nn/Scope.h"

namespace weft::nn {

/// Inverted dropout of float `x` with drop probability `p` in [0, 1]. Training mode with p > 0
/// needs a seed (Scope::withSeed); a missing seed or a p outside [0, 1] throws at `loc`.
Tensor dropout(const Scope &scope, const Tensor &x, double p, SrcLoc loc = SrcLoc::current());

/// A training step's seed: step * 2^32 + `seed`, where step is the graph's input %step (a
/// tensor<i64> scalar) to which optimize-step passes the step counter (0 on the first step).
/// The first call declares %step; later calls (another scope's seed) read the same one.
/// Distinct for every (seed, step) pair; `seed` outside [0, 2^32), or a %step of another type,
/// throws at `loc`.
Tensor stepSeed(Graph &g, int64_t seed, SrcLoc loc = SrcLoc::current());

/// The module form, as torch.nn.Dropout: holds p and the scope, and each call is a new site.
class Dropout {
public:
  Dropout(const Scope &scope, double p, SrcLoc loc = SrcLoc::current());
  Tensor operator()(const Tensor &x, SrcLoc loc = SrcLoc::current()) const {
    return dropout(scope_, x, p_, loc);
  }

private:
  Scope scope_;
  double p_;
};

} // namespace weft::nn
