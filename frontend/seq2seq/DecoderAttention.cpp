//===- frontend/seq2seq/DecoderAttention.cpp ------------------------------===//
#include "frontend/seq2seq/DecoderAttention.h"

#include "frontend/Init.h"
#include "frontend/Ops.h"

#include <fmt/format.h>

namespace weft::seq2seq {

DecoderAttention::DecoderAttention(const nn::Scope &scope,
                                   std::shared_ptr<const nn::AttentionMechanism> mechanism,
                                   int64_t layerSize, SrcLoc loc)
    : mechanism_(std::move(mechanism)), size_(layerSize) {
  if (!mechanism_)
    throwAt(loc, "seq2seq::DecoderAttention: the attention mechanism is null");
  if (layerSize < 1)
    throwAt(loc, fmt::format("seq2seq::DecoderAttention: the attention layer size must be at "
                             "least 1, got {}",
                             layerSize));
  int64_t in = mechanism_->queryDepth() + mechanism_->memoryDepth();
  Tensor w = scope.child("attention_layer", loc)
                 .param("weight", {layerSize, in}, init::torchLinear(in),
                        mechanism_->memory().dtype(), loc);
  weightT_ = transpose(w, {1, 0}, loc);
}

Tensor DecoderAttention::operator()(const Tensor &h, SrcLoc loc) const {
  nn::Alignment a = (*mechanism_)(h, loc);
  return matmul(concat({h, a.context}, 1, loc), weightT_, loc);
}

Tensor DecoderAttention::zeroState(SrcLoc loc) const {
  return zeros({mechanism_->batch(), Dim(size_)}, mechanism_->memory().dtype(), loc);
}

DecoderAttention DecoderAttention::tiled(int64_t times, SrcLoc loc) const {
  DecoderAttention t = *this;
  t.mechanism_ = mechanism_->tiled(times, loc);
  return t;
}

} // namespace weft::seq2seq
