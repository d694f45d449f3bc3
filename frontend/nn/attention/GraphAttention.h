//===- frontend/nn/attention/GraphAttention.h - a GAT layer ---------------===//
//
// Velickovic et al. (2018), multi-head, on a dense adjacency (PyTorch Geometric's GATConv
// names): for nodes x [N, Fin], H heads of F features,
//   z = x W^T                        [N, H, F]        lin.weight [H F, Fin]
//   e[h, i, j] = LeakyReLU_0.2(att_dst[h] . z[i, h] + att_src[h] . z[j, h])
//   alpha[h, i, :] = softmax_j(e[h, i, :] + mask[i, :])   mask: 0 where adj[i, j] (an edge
//                                                          from j into i), else -inf
//   out[i, h] = sum_j alpha[h, i, j] z[j, h]
// then the heads concatenated [N, H F] or averaged [N, F], plus bias. att_src, att_dst are
// [1, H, F]; bias is [H F] (concat) or [F]. With selfLoops (the default) every node also
// attends to itself, so no row of the mask is empty. Dropout on alpha acts in training mode.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/nn/Scope.h"

namespace weft::nn {

struct GraphAttentionOptions {
  int64_t heads = 1;
  /// Concatenate the heads (true) or average them.
  bool concat = true;
  double negativeSlope = 0.2;
  double dropout = 0.0;
  bool selfLoops = true;
  bool bias = true;

  GraphAttentionOptions &withHeads(int64_t h) {
    heads = h;
    return *this;
  }
  GraphAttentionOptions &withMeanOfHeads() {
    concat = false;
    return *this;
  }
  GraphAttentionOptions &withDropout(double p) {
    dropout = p;
    return *this;
  }
  GraphAttentionOptions &withoutSelfLoops() {
    selfLoops = false;
    return *this;
  }
};

/// Declares the layer's parameters in `s` and applies it to x [N, inFeatures] with `adjacency`
/// [N, N] (i1, or a float 0/1 matrix). Returns [N, heads * outFeatures] or [N, outFeatures].
Tensor graphAttention(const Scope &s, const Tensor &x, const Tensor &adjacency, int64_t inFeatures,
                      int64_t outFeatures, const GraphAttentionOptions &options = {},
                      SrcLoc loc = SrcLoc::current());

} // namespace weft::nn
