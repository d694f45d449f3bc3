//===- frontend/nn/attention/TileBatch.cpp --------------------------------===//
#include "frontend/nn/attention/TileBatch.h"

#include "frontend/Ops.h"

#include <fmt/format.h>

namespace weft::nn {

Tensor tileBatch(const Tensor &x, int64_t times, SrcLoc loc) {
  if (!x.valid() || x.rank() < 1)
    throwAt(loc, fmt::format("nn::tileBatch: the tensor must have a batch axis, got {}",
                             x.valid() ? x.type().str() : "no tensor"));
  if (times < 1)
    throwAt(loc, fmt::format("nn::tileBatch: times must be at least 1, got {}", times));
  if (times == 1)
    return x;
  // [B, rest...] -> [B, 1, rest...] -> [B, times, rest...] -> [B*times, rest...].
  Shape one = x.shape(), all = x.shape();
  one.insert(one.begin() + 1, Dim(1));
  all.insert(all.begin() + 1, Dim(times));
  Shape merged = x.shape();
  merged[0] = merged[0] * Dim(times);
  return reshape(broadcast_to(reshape(x, one, loc), all, loc), merged, loc);
}

} // namespace weft::nn
