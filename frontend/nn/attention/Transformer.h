//===- frontend/nn/attention/Transformer.h - Transformer encoder/decoder layers -===//
//
// torch.nn.TransformerEncoderLayer and TransformerDecoderLayer, with their state_dict names:
//   encoder: self_attn.*, linear1.*, linear2.*, norm1.*, norm2.*
//   decoder: self_attn.*, multihead_attn.*, linear1.*, linear2.*, norm1.*, norm2.*, norm3.*
// (self_attn.* as nn::MultiheadAttention). Post-norm, PyTorch's default:
//   x = norm1(x + dropout1(self_attn(x)))
//   x = norm2(x + dropout2(linear2(dropout(act(linear1(x))))))
// With normFirst (pre-norm): x = x + dropout1(self_attn(norm1(x))), and so on. The decoder
// adds a cross-attention block over the encoder's memory between the two, with norm2 there
// and norm3 before (or after) the feed-forward block. Dropout (also on the attention weights)
// acts in training mode only. The layout follows batchFirst as in nn::MultiheadAttention.
// Every parameter is declared when the layer is built, in the state_dict's order, so a layer
// built outside a loop may be called inside its body (a greedy decoder's `while`).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/nn/Activations.h"
#include "frontend/nn/Scope.h"
#include "frontend/nn/attention/MultiheadAttention.h"

namespace weft::nn {

enum class FeedForwardActivation { Relu, Gelu };

struct TransformerLayerOptions {
  int64_t dimFeedforward = 2048;
  double dropout = 0.1;
  FeedForwardActivation activation = FeedForwardActivation::Relu;
  double layerNormEps = 1e-5;
  bool batchFirst = false;
  bool normFirst = false;
  DType dtype = DType::F32;

  TransformerLayerOptions &withDimFeedforward(int64_t d) {
    dimFeedforward = d;
    return *this;
  }
  TransformerLayerOptions &withDropout(double p) {
    dropout = p;
    return *this;
  }
  TransformerLayerOptions &withActivation(FeedForwardActivation a) {
    activation = a;
    return *this;
  }
  TransformerLayerOptions &withBatchFirst(bool on = true) {
    batchFirst = on;
    return *this;
  }
  TransformerLayerOptions &withNormFirst(bool on = true) {
    normFirst = on;
    return *this;
  }
  TransformerLayerOptions &withDType(DType d) {
    dtype = d;
    return *this;
  }
};

namespace detail {
/// A layer's parameters besides its attention, declared when the layer is built (so that a
/// layer built outside a loop can run inside its body, as a decoder's step does).
struct FeedForwardParams {
  Tensor linear1WeightT, linear1Bias, linear2WeightT, linear2Bias;
};
struct NormParams {
  Tensor weight, bias;
};
} // namespace detail

class TransformerEncoderLayer {
public:
  TransformerEncoderLayer(const Scope &scope, int64_t dModel, int64_t nHead,
                          const TransformerLayerOptions &options = {},
                          SrcLoc loc = SrcLoc::current());
  /// src [L, B, d] (or [B, L, d]); masks as for self-attention (attn_mask, key padding, causal).
  Tensor operator()(const Tensor &src, const AttentionMasks &masks = {},
                    SrcLoc loc = SrcLoc::current()) const;

private:
  Scope scope_;
  int64_t dModel_;
  TransformerLayerOptions options_;
  MultiheadAttention selfAttn_;
  detail::FeedForwardParams feedForward_;
  detail::NormParams norm1_, norm2_;
};

class TransformerDecoderLayer {
public:
  TransformerDecoderLayer(const Scope &scope, int64_t dModel, int64_t nHead,
                          const TransformerLayerOptions &options = {},
                          SrcLoc loc = SrcLoc::current());
  /// tgt [Lt, B, d], memory [Ls, B, d] (or batch first); tgtMasks for the self-attention
  /// (usually causal), memoryMasks for the attention over memory (usually its key padding).
  Tensor operator()(const Tensor &tgt, const Tensor &memory, const AttentionMasks &tgtMasks = {},
                    const AttentionMasks &memoryMasks = {}, SrcLoc loc = SrcLoc::current()) const;

private:
  Scope scope_;
  int64_t dModel_;
  TransformerLayerOptions options_;
  MultiheadAttention selfAttn_, crossAttn_;
  detail::FeedForwardParams feedForward_;
  detail::NormParams norm1_, norm2_, norm3_;
};

} // namespace weft::nn
