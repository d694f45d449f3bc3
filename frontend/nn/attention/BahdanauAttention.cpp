//===- frontend/nn/attention/BahdanauAttention.cpp ------------------------===//
#include "frontend/nn/attention/BahdanauAttention.h"

#include "frontend/Ops.h"
#include "frontend/nn/attention/TileBatch.h"

#include <fmt/format.h>

namespace weft::nn {

BahdanauAttention::BahdanauAttention(const Scope &scope, int64_t numUnits, const Tensor &memory,
                                     const Tensor &lengths, int64_t queryDepth, SrcLoc loc)
    : AttentionMechanism("BahdanauAttention", scope, memory, lengths, queryDepth, loc),
      numUnits_(numUnits) {
  if (numUnits <= 0)
    throwAt(loc, fmt::format("{}: num_units must be positive, got {}", label_, numUnits));
  DType dt = memory.dtype();
  int64_t dm = memoryDepth();
  Tensor w1 = scope.child("memory_layer", loc)
                  .param("weight", {numUnits, dm}, init::torchLinear(dm), dt, loc);
  queryWeight_ =
      scope.child("query_layer", loc)
          .param("weight", {numUnits, queryDepth}, init::torchLinear(queryDepth), dt, loc);
  v_ = scope.param("attention_v", {numUnits}, init::torchLinear(numUnits), dt, loc);
  keys_ = matmul(memory, transpose(w1, {1, 0}, loc), loc);
}

Tensor BahdanauAttention::score(const Tensor &query, SrcLoc loc) const {
  Dim b = batch();
  Tensor q = matmul(query, transpose(queryWeight_, {1, 0}, loc), loc);
  Tensor hidden = tanh(add(keys_, reshape(q, {b, Dim(1), Dim(numUnits_)}, loc), loc), loc);
  return sum(mul(hidden, v_, loc), {-1}, /*keepdims=*/false, loc);
}

std::shared_ptr<const AttentionMechanism> BahdanauAttention::tiled(int64_t times,
                                                                   SrcLoc loc) const {
  auto t = std::make_shared<BahdanauAttention>(*this);
  t->tileMemory(times, loc);
  t->keys_ = tileBatch(keys_, times, loc);
  return t;
}

} // namespace weft::nn
