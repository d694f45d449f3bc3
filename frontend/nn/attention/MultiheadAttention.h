//===- frontend/nn/attention/MultiheadAttention.h - nn.MultiheadAttention --===//
//
// Parameters as torch.nn.MultiheadAttention's state_dict names them (E = embed_dim, H heads of
// E / H features each):
//   in_proj_weight [3E, E]  rows [0, E) project the query, [E, 2E) the key, [2E, 3E) the value
//   in_proj_bias [3E], out_proj.weight [E, E], out_proj.bias [E]   (biases optional)
// Layout: with batchFirst (PyTorch's batch_first=True) inputs are [B, L, E], otherwise
// sequence-major [L, B, E], PyTorch's default; the output has the query's layout. Each head
// runs nn::scaledDotProductAttention on [B, H, L, E/H], with the masks summed into one
// additive mask broadcast to [B, H, Lq, Lk].
//
// Not supported: kdim / vdim different from embed_dim, add_bias_kv, add_zero_attn.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/nn/Scope.h"

namespace weft::nn {

struct MultiheadAttentionOptions {
  bool bias = true;
  bool batchFirst = false;
  /// Dropout on the attention weights, in training mode.
  double dropout = 0.0;
  DType dtype = DType::F32;

  MultiheadAttentionOptions &withoutBias() {
    bias = false;
    return *this;
  }
  MultiheadAttentionOptions &withBatchFirst(bool on = true) {
    batchFirst = on;
    return *this;
  }
  MultiheadAttentionOptions &withDropout(double p) {
    dropout = p;
    return *this;
  }
  MultiheadAttentionOptions &withDType(DType d) {
    dtype = d;
    return *this;
  }
};

/// The masks of one call; every one is optional.
struct AttentionMasks {
  /// Additive [Lq, Lk] (PyTorch's float attn_mask), e.g. nn::causalMask.
  Tensor attnMask;
  /// Additive [B, Lk] (PyTorch's float key_padding_mask), e.g. nn::keyPaddingMask.
  Tensor keyPadding;
  /// tensor<B x i32|i64>: keys t >= keyLengths[b] are padding (the same as keyPadding =
  /// nn::keyPaddingMask(keyLengths, Lk)).
  Tensor keyLengths;
  /// Query i sees keys j <= i; added to attnMask.
  bool causal = false;

  AttentionMasks &withAttnMask(Tensor m) {
    attnMask = m;
    return *this;
  }
  AttentionMasks &withKeyPadding(Tensor m) {
    keyPadding = m;
    return *this;
  }
  AttentionMasks &withKeyLengths(Tensor lengths) {
    keyLengths = lengths;
    return *this;
  }
  AttentionMasks &withCausal(bool on = true) {
    causal = on;
    return *this;
  }
};

struct MultiheadAttentionOutput {
  /// The query's layout: [Lq, B, E], or [B, Lq, E] with batchFirst.
  Tensor output;
  /// [B, Lq, Lk], averaged over the heads (need_weights=True, average_attn_weights=True).
  Tensor weights;
};

class MultiheadAttention {
public:
  MultiheadAttention(const Scope &scope, int64_t embedDim, int64_t numHeads,
                     const MultiheadAttentionOptions &options = {}, SrcLoc loc = SrcLoc::current());

  MultiheadAttentionOutput operator()(const Tensor &query, const Tensor &key, const Tensor &value,
                                      const AttentionMasks &masks = {},
                                      SrcLoc loc = SrcLoc::current()) const;

  int64_t embedDim() const { return embedDim_; }
  int64_t numHeads() const { return numHeads_; }

private:
  Scope scope_;
  int64_t embedDim_, numHeads_;
  MultiheadAttentionOptions options_;
  Tensor inProjWeight_, inProjBias_, outProjWeight_, outProjBias_;
};

} // namespace weft::nn
