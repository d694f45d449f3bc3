//===- frontend/seq2seq/Layers.h - layers a decoder calls once per step ---===//
//
// nn::linear and nn::embedding declare their parameters at each call; a decoder applies its
// output layer and its embedding inside a loop body, once per step, and in two graphs (training
// and inference). These declare once, at construction, with nn.Linear's and nn.Embedding's
// names and initializers, and apply any number of times:
//
//   Dense       y = x W^T + b          "<scope>.weight" [out, in], "<scope>.bias" [out]
//   Embedding   y[..., :] = W[ids...]   "<scope>.weight" [num, dim]
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/nn/Scope.h"

namespace weft::seq2seq {

/// TF's tf.layers.Dense without an activation: the decoder's output layer (TF1's
/// BasicDecoder `output_layer`), hidden state [B, in] -> logits [B, out].
class Dense {
public:
  Dense(const nn::Scope &scope, int64_t inFeatures, int64_t outFeatures,
        SrcLoc loc = SrcLoc::current());
  /// x [B, in] -> [B, out]; throws at `loc` for another shape.
  Tensor operator()(const Tensor &x, SrcLoc loc = SrcLoc::current()) const;
  int64_t inFeatures() const { return in_; }
  int64_t outFeatures() const { return out_; }

private:
  int64_t in_, out_;
  Tensor weightT_, bias_;
};

/// A lookup table (nn.Embedding's parameter and initializer, N(0, 1) with the <PAD> row, id 0,
/// zero).
class Embedding {
public:
  Embedding(const nn::Scope &scope, int64_t numEmbeddings, int64_t embeddingDim,
            SrcLoc loc = SrcLoc::current());
  /// ids [...] (integers) -> [..., dim]; ids out of range are an error when run (gather).
  Tensor operator()(const Tensor &ids, SrcLoc loc = SrcLoc::current()) const;
  const Tensor &table() const { return table_; }
  int64_t numEmbeddings() const { return num_; }
  int64_t embeddingDim() const { return dim_; }

private:
  int64_t num_, dim_;
  Tensor table_;
};

} // namespace weft::seq2seq
