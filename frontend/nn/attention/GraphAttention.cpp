//===- frontend/nn/attention/GraphAttention.cpp ---------------------------===//
#include "frontend/nn/attention/GraphAttention.h"

#include "frontend/Ops.h"
#include "frontend/nn/Activations.h"
#include "frontend/nn/Dropout.h"
#include "frontend/nn/LayerLabel.h"
#include "frontend/nn/attention/Masks.h"

namespace weft::nn {
namespace {

/// The i1 mask "i attends to j": the edges, plus the diagonal with self loops.
Tensor edgeMask(const Tensor &adjacency, Dim n, bool selfLoops, SrcLoc loc) {
  Tensor edges = adjacency.dtype() == DType::I1
                     ? adjacency
                     : ne(adjacency, full_like(adjacency, 0.0, loc), loc);
  if (!selfLoops)
    return edges;
  Tensor diag = eq(iota({n, n}, 0, DType::I64, loc), iota({n, n}, 1, DType::I64, loc), loc);
  return logical_or(edges, diag, loc);
}

} // namespace

Tensor graphAttention(const Scope &s, const Tensor &x, const Tensor &adjacency, int64_t inFeatures,
                      int64_t outFeatures, const GraphAttentionOptions &options, SrcLoc loc) {
  std::string label = layerLabel("GATConv", s);
  requireInput(x, label, loc);
  requireInput(adjacency, label, loc);
  if (inFeatures <= 0 || outFeatures <= 0 || options.heads <= 0)
    throwAt(loc, fmt::format("{}: in_channels, out_channels and heads must be positive, got {}, "
                             "{} and {}",
                             label, inFeatures, outFeatures, options.heads));
  if (x.rank() != 2 || x.shape()[1] != Dim(inFeatures) || !isFloat(x.dtype()))
    throwAt(loc, fmt::format("{}: x must be a float tensor [N, {}], got {}", label, inFeatures,
                             x.type().str()));
  Dim n = x.shape()[0];
  if (adjacency.rank() != 2 || adjacency.shape()[0] != n || adjacency.shape()[1] != n)
    throwAt(loc, fmt::format("{}: the adjacency must be [N, N] = [{}, {}] for x {}, got {}", label,
                             n.str(), n.str(), x.type().shapeStr(), adjacency.type().str()));
  int64_t h = options.heads, f = outFeatures;
  DType dt = x.dtype();
  Tensor w =
      s.child("lin", loc).param("weight", {h * f, inFeatures}, init::xavierUniform(), dt, loc);
  Tensor attSrc = s.param("att_src", {1, h, f}, init::xavierUniform(), dt, loc);
  Tensor attDst = s.param("att_dst", {1, h, f}, init::xavierUniform(), dt, loc);

  Tensor z = reshape(matmul(x, transpose(w, {1, 0}, loc), loc), {n, Dim(h), Dim(f)}, loc);
  // Per node and head: [N, H] -> [H, N].
  Tensor src = transpose(sum(mul(z, attSrc, loc), {-1}, false, loc), {1, 0}, loc);
  Tensor dst = transpose(sum(mul(z, attDst, loc), {-1}, false, loc), {1, 0}, loc);
  // e [H, N(i), N(j)] = dst[h, i] + src[h, j].
  Tensor e =
      add(reshape(dst, {Dim(h), n, Dim(1)}, loc), reshape(src, {Dim(h), Dim(1), n}, loc), loc);
  e = leakyRelu(e, options.negativeSlope, loc);
  Tensor mask = additiveMask(edgeMask(adjacency, n, options.selfLoops, loc), dt, loc);
  Tensor alpha = softmax(add(e, mask, loc), -1, loc);
  alpha = dropout(s, alpha, options.dropout, loc);
  // [H, N, N] x [H, N, F] -> [H, N, F] -> [N, H, F].
  Tensor out = transpose(matmul(alpha, transpose(z, {1, 0, 2}, loc), loc), {1, 0, 2}, loc);
  out = options.concat ? reshape(out, {n, Dim(h * f)}, loc) : mean(out, {1}, false, loc);
  if (!options.bias)
    return out;
  int64_t width = options.concat ? h * f : f;
  return add(out, s.param("bias", {width}, init::zeros(), dt, loc), loc);
}

} // namespace weft::nn
