//===- frontend/nn/attention/LuongAttention.cpp ---------------------------===//
#include "frontend/nn/attention/LuongAttention.h"

#include "frontend/Ops.h"
#include "frontend/nn/attention/TileBatch.h"

#include <fmt/format.h>

namespace weft::nn {

LuongAttention::LuongAttention(const Scope &scope, const Tensor &memory, const Tensor &lengths,
                               int64_t queryDepth, bool scale, SrcLoc loc)
    : AttentionMechanism("LuongAttention", scope, memory, lengths, queryDepth, loc) {
  DType dt = memory.dtype();
  int64_t dm = memoryDepth();
  Tensor w = scope.child("memory_layer", loc)
                 .param("weight", {queryDepth, dm}, init::torchLinear(dm), dt, loc);
  if (scale)
    g_ = scope.param("attention_g", {}, init::ones(), dt, loc);
  keys_ = matmul(memory, transpose(w, {1, 0}, loc), loc);
  keysT_ = transpose(keys_, {0, 2, 1}, loc);
}

Tensor LuongAttention::score(const Tensor &query, SrcLoc loc) const {
  Dim b = batch(), tm = memoryLength();
  // [B, 1, Dq] x [B, Dq, Tm] -> [B, 1, Tm].
  Tensor q = reshape(query, {b, Dim(1), Dim(queryDepth())}, loc);
  Tensor s = reshape(matmul(q, keysT_, loc), {b, tm}, loc);
  return g_.valid() ? mul(s, g_, loc) : s;
}

std::shared_ptr<const AttentionMechanism> LuongAttention::tiled(int64_t times, SrcLoc loc) const {
  auto t = std::make_shared<LuongAttention>(*this);
  t->tileMemory(times, loc);
  t->keys_ = tileBatch(keys_, times, loc);
  t->keysT_ = tileBatch(keysT_, times, loc);
  return t;
}

} // namespace weft::nn
