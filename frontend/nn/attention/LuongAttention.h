//===- frontend/nn/attention/LuongAttention.h - multiplicative attention --===//
//
// Luong et al. (2015), the "general" score: score[b, t] = query[b] . keys[b, t], with
// keys = memory W^T computed once when the mechanism is built (outside the decoder loop).
// With `scale`, the score is multiplied by a learned scalar g (TensorFlow's scale=True).
// Parameters, as TensorFlow names them: memory_layer.weight [Dq, Dm] (W), attention_g [] (init 1).
// See AttentionMechanism.h.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/nn/attention/AttentionMechanism.h"

namespace weft::nn {

class LuongAttention : public AttentionMechanism {
public:
  LuongAttention(const Scope &scope, const Tensor &memory, const Tensor &lengths,
                 int64_t queryDepth, bool scale = false, SrcLoc loc = SrcLoc::current());
  /// The projected memory [B, Tm, Dq].
  const Tensor &keys() const { return keys_; }
  std::shared_ptr<const AttentionMechanism> tiled(int64_t times,
                                                  SrcLoc loc = SrcLoc::current()) const override;

protected:
  Tensor score(const Tensor &query, SrcLoc loc) const override;

private:
  Tensor keys_, keysT_, g_;
};

} // namespace weft::nn
