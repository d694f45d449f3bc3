//===- frontend/seq2seq/Helpers.cpp ---------------------------------------===//
#include "frontend/seq2seq/Helpers.h"

#include "frontend/Graph.h"
#include "frontend/Ops.h"

#include <fmt/format.h>

namespace weft::seq2seq {

Tensor shiftRight(const Tensor &targets, int64_t bos, SrcLoc loc) {
  if (!targets.valid() || targets.rank() != 2 || !isInteger(targets.dtype()))
    throwAt(loc, fmt::format("seq2seq::shiftRight: the targets must be integer ids [T, B], got {}",
                             targets.valid() ? targets.type().str() : "no tensor"));
  // Row t reads row max(t - 1, 0), then row 0 becomes <BOS>: a gather, so T may be symbolic.
  Dim T = targets.shape()[0], B = targets.shape()[1];
  Tensor t = iota({T}, 0, DType::I64, loc);
  Tensor prev = max(sub(t, full_like(t, 1.0, loc), loc), full_like(t, 0.0, loc), loc);
  Tensor shifted = gather(targets, prev, 0, loc);
  Tensor first = eq(iota({T, B}, 0, DType::I64, loc), zeros({T, B}, DType::I64, loc), loc);
  return select(first, full({T, B}, double(bos), targets.dtype(), loc), shifted, loc);
}

Tensor chooseTokens(const GreedyEmbeddingHelper &h, const Tensor &logits, const Tensor &step,
                    SrcLoc loc) {
  return argmax(logits, 1, loc);
}

Tensor chooseTokens(const SampleEmbeddingHelper &h, const Tensor &logits, const Tensor &step,
                    SrcLoc loc) {
  if (!(h.temperature > 0))
    throwAt(loc, fmt::format("seq2seq::SampleEmbeddingHelper: the temperature must be above 0, "
                             "got {}",
                             h.temperature));
  Tensor seed = h.seedTensor.valid() ? h.seedTensor : full({}, double(h.seed), DType::I64, loc);
  if (seed.rank() != 0 || seed.dtype() != DType::I64)
    throwAt(loc, fmt::format("seq2seq::SampleEmbeddingHelper: the seed must be a tensor<i64> "
                             "scalar, got {}",
                             seed.type().str()));
  Tensor stepSeed = add(mul(seed, full_like(seed, double(1 << 20), loc), loc), step, loc);
  // u in (0, 1): 24-bit uniforms in [0, 1) moved off 0 by half a unit, so log(u) is finite.
  Tensor u = random_uniform(logits.shape(), stepSeed, logits.dtype(), loc);
  u = add(mul(u, full_like(u, 1.0 - 0x1.0p-24, loc), loc), full_like(u, 0x1.0p-25, loc), loc);
  Tensor gumbel = neg(log(neg(log(u, loc), loc), loc), loc);
  Tensor scaled = div(logits, full_like(logits, h.temperature, loc), loc);
  return argmax(add(scaled, gumbel, loc), 1, loc);
}

} // namespace weft::seq2seq
