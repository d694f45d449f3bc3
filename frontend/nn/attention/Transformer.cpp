//===- frontend/nn/attention/Transformer.cpp ------------------------------===//
#include "frontend/nn/attention/Transformer.h"

#include "frontend/Ops.h"
#include "frontend/nn/Dropout.h"
#include "frontend/nn/LayerLabel.h"
#include "frontend/nn/LayerNorm.h"
#include "frontend/nn/Linear.h"

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

Tensor norm(const Scope &s, const char *name, const Tensor &x, int64_t d,
            const TransformerLayerOptions &o, SrcLoc loc) {
  return layerNorm(s.child(name, loc), x, {d}, LayerNormOptions().withEps(o.layerNormEps), loc);
}

/// linear2(dropout(act(linear1(x)))), then dropout2.
Tensor feedForward(const Scope &s, const Tensor &x, int64_t d, const TransformerLayerOptions &o,
                   SrcLoc loc) {
  Tensor h = linear(s.child("linear1", loc), x, d, o.dimFeedforward, {}, loc);
  h = o.activation == FeedForwardActivation::Relu ? relu(h, loc) : gelu(h, GeluApprox::None, loc);
  h = dropout(s, h, o.dropout, loc);
  h = linear(s.child("linear2", loc), h, o.dimFeedforward, d, {}, loc);
  return dropout(s, h, o.dropout, loc);
}

/// The sublayer with its residual connection and norm, in pre- or post-norm order.
template <class F>
Tensor sublayer(const Scope &s, const char *normName, const Tensor &x, int64_t d,
                const TransformerLayerOptions &o, SrcLoc loc, F &&block) {
  if (o.normFirst)
    return add(x, block(norm(s, normName, x, d, o, loc)), loc);
  return norm(s, normName, add(x, block(x), loc), d, o, loc);
}

} // namespace

TransformerEncoderLayer::TransformerEncoderLayer(const Scope &scope, int64_t dModel, int64_t nHead,
                                                 const TransformerLayerOptions &options, SrcLoc loc)
    : scope_(scope), dModel_(dModel), options_(options),
      selfAttn_(scope.child("self_attn", loc), dModel, nHead, attentionOptions(options), loc) {
  checkOptions("TransformerEncoderLayer", scope, dModel, options, loc);
}

Tensor TransformerEncoderLayer::operator()(const Tensor &src, const AttentionMasks &masks,
                                           SrcLoc loc) const {
  requireInput(src, layerLabel("TransformerEncoderLayer", scope_), loc);
  const auto &o = options_;
  Tensor x = sublayer(scope_, "norm1", src, dModel_, o, loc, [&](const Tensor &t) {
    return dropout(scope_, selfAttn_(t, t, t, masks, loc).output, o.dropout, loc);
  });
  return sublayer(scope_, "norm2", x, dModel_, o, loc,
                  [&](const Tensor &t) { return feedForward(scope_, t, dModel_, o, loc); });
}

TransformerDecoderLayer::TransformerDecoderLayer(const Scope &scope, int64_t dModel, int64_t nHead,
                                                 const TransformerLayerOptions &options, SrcLoc loc)
    : scope_(scope), dModel_(dModel), options_(options),
      selfAttn_(scope.child("self_attn", loc), dModel, nHead, attentionOptions(options), loc),
      crossAttn_(scope.child("multihead_attn", loc), dModel, nHead, attentionOptions(options),
                 loc) {
  checkOptions("TransformerDecoderLayer", scope, dModel, options, loc);
}

Tensor TransformerDecoderLayer::operator()(const Tensor &tgt, const Tensor &memory,
                                           const AttentionMasks &tgtMasks,
                                           const AttentionMasks &memoryMasks, SrcLoc loc) const {
  std::string label = layerLabel("TransformerDecoderLayer", scope_);
  requireInput(tgt, label, loc);
  requireInput(memory, label, loc);
  const auto &o = options_;
  Tensor x = sublayer(scope_, "norm1", tgt, dModel_, o, loc, [&](const Tensor &t) {
    return dropout(scope_, selfAttn_(t, t, t, tgtMasks, loc).output, o.dropout, loc);
  });
  x = sublayer(scope_, "norm2", x, dModel_, o, loc, [&](const Tensor &t) {
    return dropout(scope_, crossAttn_(t, memory, memory, memoryMasks, loc).output, o.dropout, loc);
  });
  return sublayer(scope_, "norm3", x, dModel_, o, loc,
                  [&](const Tensor &t) { return feedForward(scope_, t, dModel_, o, loc); });
}

} // namespace weft::nn
