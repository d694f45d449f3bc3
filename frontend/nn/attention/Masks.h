//===- frontend/nn/attention/Masks.h - additive attention masks -----------===//
//
// An attention mask here is additive, as PyTorch's float attn_mask: 0 where a query may attend
// to a key and -inf where it may not, added to the scores before the softmax, so a masked key
// gets exactly zero weight. Additive masks are what the attention fusion pass matches
// (softmax(Q K^T scale + mask) V). A query whose keys are all masked gets NaN weights, as in
// PyTorch; sequence lengths must therefore be at least 1.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Graph.h"

namespace weft::nn {

/// [Lq, Lk] of `dtype`: query i sees keys j <= i (PyTorch's
/// nn.Transformer.generate_square_subsequent_mask for Lq = Lk).
Tensor causalMask(Dim lq, Dim lk, DType dtype = DType::F32, SrcLoc loc = SrcLoc::current());

/// [B, L] i1: true at positions t < lengths[b]. `lengths` is tensor<B x i32|i64>.
Tensor lengthMask(const Tensor &lengths, Dim length, SrcLoc loc = SrcLoc::current());

/// [B, Lk] of `dtype`: 0 for the keys t < lengths[b], -inf for the padding after them.
Tensor keyPaddingMask(const Tensor &lengths, Dim lk, DType dtype = DType::F32,
                      SrcLoc loc = SrcLoc::current());

/// The additive form of a boolean mask `keep` (true = attend): 0 where keep, -inf elsewhere.
Tensor additiveMask(const Tensor &keep, DType dtype = DType::F32, SrcLoc loc = SrcLoc::current());

} // namespace weft::nn
