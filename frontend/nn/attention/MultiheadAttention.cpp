//===- frontend/nn/attention/MultiheadAttention.cpp -----------------------===//
#include "frontend/nn/attention/MultiheadAttention.h"

#include "frontend/Ops.h"
#include "frontend/nn/LayerLabel.h"
#include "frontend/nn/attention/Masks.h"
#include "frontend/nn/attention/ScaledDotProduct.h"

namespace weft::nn {
namespace {

/// x [B, L, E] W^T + b with W the rows [part E, (part + 1) E) of in_proj_weight.
Tensor project(const Tensor &x, const Tensor &w, const Tensor &b, int64_t part, int64_t e,
               SrcLoc loc) {
  Tensor wp = slice(w, 0, part * e, (part + 1) * e, loc);
  Tensor y = matmul(x, transpose(wp, {1, 0}, loc), loc);
  return b.valid() ? add(y, slice(b, 0, part * e, (part + 1) * e, loc), loc) : y;
}

/// [B, L, E] -> [B, H, L, E / H].
Tensor splitHeads(const Tensor &x, int64_t heads, SrcLoc loc) {
  Dim b = x.shape()[0], l = x.shape()[1];
  int64_t e = x.shape()[2].size();
  return transpose(reshape(x, {b, l, Dim(heads), Dim(e / heads)}, loc), {0, 2, 1, 3}, loc);
}

} // namespace

MultiheadAttention::MultiheadAttention(const Scope &scope, int64_t embedDim, int64_t numHeads,
                                       const MultiheadAttentionOptions &options, SrcLoc loc)
    : scope_(scope), embedDim_(embedDim), numHeads_(numHeads), options_(options) {
  std::string label = layerLabel("MultiheadAttention", scope);
  if (embedDim <= 0 || numHeads <= 0 || embedDim % numHeads != 0)
    throwAt(loc, fmt::format("{}: embed_dim ({}) must be a positive multiple of num_heads ({})",
                             label, embedDim, numHeads));
  int64_t e = embedDim;
  DType dt = options.dtype;
  // PyTorch's _reset_parameters: xavier_uniform_ on in_proj_weight, zero biases; out_proj keeps
  // nn.Linear's default weight init.
  inProjWeight_ = scope.param("in_proj_weight", {3 * e, e}, init::xavierUniform(), dt, loc);
  if (options.bias)
    inProjBias_ = scope.param("in_proj_bias", {3 * e}, init::zeros(), dt, loc);
  Scope out = scope.child("out_proj", loc);
  outProjWeight_ = out.param("weight", {e, e}, init::torchLinear(e), dt, loc);
  if (options.bias)
    outProjBias_ = out.param("bias", {e}, init::zeros(), dt, loc);
}

MultiheadAttentionOutput MultiheadAttention::operator()(const Tensor &query, const Tensor &key,
                                                        const Tensor &value,
                                                        const AttentionMasks &masks,
                                                        SrcLoc loc) const {
  std::string label = layerLabel("MultiheadAttention", scope_);
  for (const Tensor *t : {&query, &key, &value}) {
    requireInput(*t, label, loc);
    if (t->rank() != 3 || t->shape()[2] != Dim(embedDim_) || t->dtype() != options_.dtype)
      throwAt(loc, fmt::format("{}: query, key and value must be {} tensors [{}, E = {}], got {}",
                               label, dtypeName(options_.dtype),
                               options_.batchFirst ? "B, L" : "L, B", embedDim_, t->type().str()));
  }
  // Batch-major [B, L, E] inside.
  auto batchMajor = [&](const Tensor &x) {
    return options_.batchFirst ? x : transpose(x, {1, 0, 2}, loc);
  };
  Tensor q = batchMajor(query), k = batchMajor(key), v = batchMajor(value);
  Dim b = q.shape()[0], lq = q.shape()[1], lk = k.shape()[1];
  int64_t e = embedDim_, h = numHeads_;
  q = splitHeads(project(q, inProjWeight_, inProjBias_, 0, e, loc), h, loc);
  k = splitHeads(project(k, inProjWeight_, inProjBias_, 1, e, loc), h, loc);
  v = splitHeads(project(v, inProjWeight_, inProjBias_, 2, e, loc), h, loc);

  // One additive mask, broadcast against the scores [B, H, Lq, Lk].
  DType dt = options_.dtype;
  Tensor mask = masks.attnMask;
  if (masks.causal) {
    Tensor c = causalMask(lq, lk, dt, loc);
    mask = mask.valid() ? add(mask, c, loc) : c;
  }
  for (Tensor pad :
       {masks.keyPadding,
        masks.keyLengths.valid() ? keyPaddingMask(masks.keyLengths, lk, dt, loc) : Tensor()}) {
    if (!pad.valid())
      continue;
    pad = reshape(pad, {b, Dim(1), Dim(1), lk}, loc);
    mask = mask.valid() ? add(mask, pad, loc) : pad;
  }
  AttentionOptions attn;
  if (options_.dropout > 0.0)
    attn.withDropout(scope_, options_.dropout);
  AttentionOutput a = scaledDotProductAttention(q, k, v, mask, attn, loc);

  // [B, H, Lq, E/H] -> [B, Lq, E] -> out_proj.
  Tensor merged = reshape(transpose(a.output, {0, 2, 1, 3}, loc), {b, lq, Dim(e)}, loc);
  Tensor y = matmul(merged, transpose(outProjWeight_, {1, 0}, loc), loc);
  if (outProjBias_.valid())
    y = add(y, outProjBias_, loc);
  if (!options_.batchFirst)
    y = transpose(y, {1, 0, 2}, loc);
  return {y, mean(a.weights, {1}, /*keepdims=*/false, loc)};
}

} // namespace weft::nn
