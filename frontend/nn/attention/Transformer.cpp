//===- frontend/nn/attention/Transformer.cpp ------------------------------===//
#include "frontend/nn/attention/Transformer.h"

#include "frontend/Ops.h"
#include "frontend/nn/Dropout.h"
#include "frontend/nn/LayerLabel.h"
#include "frontend/nn/LayerNorm.h"

namespace weft::nn {
namespace {

MultiheadAttentionOptions attentionOptions(const TransformerLayerOptions &o) {
  return MultiheadAttentionOptions()
      .withBatchFirst(o.batchFirst)
      .withDropout(o.dropout)
      .withDType(o.dtype);
}

void checkOptions(const char *kind, const Scope &s, int64_t dModel,
                  const TransformerLayerOptions &o, SrcLoc loc) {
  if (o.dimFeedforward <= 0)
    throwAt(loc, fmt::format("{}: dim_feedforward must be positive, got {}", layerLabel(kind, s),
                             o.dimFeedforward));
  if (dModel <= 0)
    throwAt(loc, fmt::format("{}: d_model must be positive, got {}", layerLabel(kind, s), dModel));
}

detail::NormParams declareNorm(const Scope &s, const char *name, int64_t d,
                               const TransformerLayerOptions &o, SrcLoc loc) {
  Scope n = s.child(name, loc);
  return {n.param("weight", {d}, init::torchNormWeight(), o.dtype, loc),
          n.param("bias", {d}, init::torchNormBias(), o.dtype, loc)};
}

/// linear1 [dimFeedforward, d] and linear2 [d, dimFeedforward] with their biases; the weights
/// are transposed here, once, outside any loop that calls the layer.
detail::FeedForwardParams declareFeedForward(const Scope &s, int64_t d,
                                             const TransformerLayerOptions &o, SrcLoc loc) {
  Scope l1 = s.child("linear1", loc), l2 = s.child("linear2", loc);
  int64_t f = o.dimFeedforward;
  detail::FeedForwardParams p;
  p.linear1WeightT =
      transpose(l1.param("weight", {f, d}, init::torchLinear(d), o.dtype, loc), {1, 0}, loc);
  p.linear1Bias = l1.param("bias", {f}, init::torchLinear(d), o.dtype, loc);
  p.linear2WeightT =
      transpose(l2.param("weight", {d, f}, init::torchLinear(f), o.dtype, loc), {1, 0}, loc);
  p.linear2Bias = l2.param("bias", {d}, init::torchLinear(f), o.dtype, loc);
  return p;
}

Tensor norm(const Scope &s, const char *name, const detail::NormParams &p, const Tensor &x,
            int64_t d, const TransformerLayerOptions &o, SrcLoc loc) {
  Tensor y = layerNorm(s.child(name, loc), x, {d},
                       LayerNormOptions().withEps(o.layerNormEps).withoutAffine(), loc);
  return add(mul(y, p.weight, loc), p.bias, loc);
}

/// linear2(dropout(act(linear1(x)))), then dropout2.
Tensor feedForward(const Scope &s, const detail::FeedForwardParams &p, const Tensor &x,
                   const TransformerLayerOptions &o, SrcLoc loc) {
  Tensor h = add(matmul(x, p.linear1WeightT, loc), p.linear1Bias, loc);
  h = o.activation == FeedForwardActivation::Relu ? relu(h, loc) : gelu(h, GeluApprox::None, loc);
  h = dropout(s, h, o.dropout, loc);
  h = add(matmul(h, p.linear2WeightT, loc), p.linear2Bias, loc);
  return dropout(s, h, o.dropout, loc);
}

/// The sublayer with its residual connection and norm, in pre- or post-norm order.
template <class F>
Tensor sublayer(const Scope &s, const char *normName, const detail::NormParams &p, const Tensor &x,
                int64_t d, const TransformerLayerOptions &o, SrcLoc loc, F &&block) {
  if (o.normFirst)
    return add(x, block(norm(s, normName, p, x, d, o, loc)), loc);
  return norm(s, normName, p, add(x, block(x), loc), d, o, loc);
}

} // namespace

TransformerEncoderLayer::TransformerEncoderLayer(const Scope &scope, int64_t dModel, int64_t nHead,
                                                 const TransformerLayerOptions &options, SrcLoc loc)
    : scope_(scope), dModel_(dModel), options_(options),
      selfAttn_(scope.child("self_attn", loc), dModel, nHead, attentionOptions(options), loc) {
  checkOptions("TransformerEncoderLayer", scope, dModel, options, loc);
  feedForward_ = declareFeedForward(scope, dModel, options, loc);
  norm1_ = declareNorm(scope, "norm1", dModel, options, loc);
  norm2_ = declareNorm(scope, "norm2", dModel, options, loc);
}

Tensor TransformerEncoderLayer::operator()(const Tensor &src, const AttentionMasks &masks,
                                           SrcLoc loc) const {
  requireInput(src, layerLabel("TransformerEncoderLayer", scope_), loc);
  const auto &o = options_;
  Tensor x = sublayer(scope_, "norm1", norm1_, src, dModel_, o, loc, [&](const Tensor &t) {
    return dropout(scope_, selfAttn_(t, t, t, masks, loc).output, o.dropout, loc);
  });
  return sublayer(scope_, "norm2", norm2_, x, dModel_, o, loc,
                  [&](const Tensor &t) { return feedForward(scope_, feedForward_, t, o, loc); });
}

TransformerDecoderLayer::TransformerDecoderLayer(const Scope &scope, int64_t dModel, int64_t nHead,
                                                 const TransformerLayerOptions &options, SrcLoc loc)
    : scope_(scope), dModel_(dModel), options_(options),
      selfAttn_(scope.child("self_attn", loc), dModel, nHead, attentionOptions(options), loc),
      crossAttn_(scope.child("multihead_attn", loc), dModel, nHead, attentionOptions(options),
                 loc) {
  checkOptions("TransformerDecoderLayer", scope, dModel, options, loc);
  feedForward_ = declareFeedForward(scope, dModel, options, loc);
  norm1_ = declareNorm(scope, "norm1", dModel, options, loc);
  norm2_ = declareNorm(scope, "norm2", dModel, options, loc);
  norm3_ = declareNorm(scope, "norm3", dModel, options, loc);
}

Tensor TransformerDecoderLayer::operator()(const Tensor &tgt, const Tensor &memory,
                                           const AttentionMasks &tgtMasks,
                                           const AttentionMasks &memoryMasks, SrcLoc loc) const {
  std::string label = layerLabel("TransformerDecoderLayer", scope_);
  requireInput(tgt, label, loc);
  requireInput(memory, label, loc);
  const auto &o = options_;
  Tensor x = sublayer(scope_, "norm1", norm1_, tgt, dModel_, o, loc, [&](const Tensor &t) {
    return dropout(scope_, selfAttn_(t, t, t, tgtMasks, loc).output, o.dropout, loc);
  });
  x = sublayer(scope_, "norm2", norm2_, x, dModel_, o, loc, [&](const Tensor &t) {
    return dropout(scope_, crossAttn_(t, memory, memory, memoryMasks, loc).output, o.dropout, loc);
  });
  return sublayer(scope_, "norm3", norm3_, x, dModel_, o, loc,
                  [&](const Tensor &t) { return feedForward(scope_, feedForward_, t, o, loc); });
}

} // namespace weft::nn
