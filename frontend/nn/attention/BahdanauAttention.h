//===- frontend/nn/attention/BahdanauAttention.h - additive attention -----===//
//
// Bahdanau et al. (2015): score[b, t] = v . tanh(keys[b, t] + W2 query[b]), with
// keys = memory W1^T computed once when the mechanism is built (outside the decoder loop).
// Parameters, as TensorFlow names them: memory_layer.weight [U, Dm] (W1), query_layer.weight
// [U, Dq] (W2), attention_v [U]; U = numUnits. See AttentionMechanism.h.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/nn/attention/AttentionMechanism.h"

namespace weft::nn {

class BahdanauAttention : public AttentionMechanism {
public:
  BahdanauAttention(const Scope &scope, int64_t numUnits, const Tensor &memory,
                    const Tensor &lengths, int64_t queryDepth, SrcLoc loc = SrcLoc::current());
  /// The projected memory [B, Tm, U].
  const Tensor &keys() const { return keys_; }
  std::shared_ptr<const AttentionMechanism> tiled(int64_t times,
                                                  SrcLoc loc = SrcLoc::current()) const override;

protected:
  Tensor score(const Tensor &query, SrcLoc loc) const override;

private:
  int64_t numUnits_;
  Tensor keys_, queryWeight_, v_;
};

} // namespace weft::nn
