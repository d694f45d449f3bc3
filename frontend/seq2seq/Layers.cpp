//===- frontend/seq2seq/Layers.cpp ----------------------------------------===//
#include "frontend/seq2seq/Layers.h"

#include "frontend/Ops.h"

#include <fmt/format.h>

namespace weft::seq2seq {

namespace {
/// "seq2seq.Dense 'decoder.out'", for messages.
std::string label(const char *kind, const nn::Scope &s) {
  return fmt::format("seq2seq.{} '{}'", kind, s.prefix());
}
} // namespace

Dense::Dense(const nn::Scope &scope, int64_t inFeatures, int64_t outFeatures, SrcLoc loc)
    : in_(inFeatures), out_(outFeatures) {
  if (inFeatures < 1 || outFeatures < 1)
    throwAt(loc, fmt::format("{}: in and out features must be positive, got {} and {}",
                             label("Dense", scope), inFeatures, outFeatures));
  Tensor w = scope.param("weight", {outFeatures, inFeatures}, init::torchLinear(inFeatures),
                         DType::F32, loc);
  weightT_ = transpose(w, {1, 0}, loc);
  bias_ = scope.param("bias", {outFeatures}, init::torchLinear(inFeatures), DType::F32, loc);
}

Tensor Dense::operator()(const Tensor &x, SrcLoc loc) const {
  if (!x.valid() || x.rank() != 2 || x.shape()[1] != Dim(in_))
    throwAt(loc, fmt::format("seq2seq::Dense: the input must be [B, {}], got {}", in_,
                             x.valid() ? x.type().shapeStr() : "no tensor"));
  return add(matmul(x, weightT_, loc), bias_, loc);
}

Embedding::Embedding(const nn::Scope &scope, int64_t numEmbeddings, int64_t embeddingDim,
                     SrcLoc loc)
    : num_(numEmbeddings), dim_(embeddingDim) {
  if (numEmbeddings < 1 || embeddingDim < 1)
    throwAt(loc, fmt::format("{}: the table size and the embedding size must be positive, got "
                             "{} and {}",
                             label("Embedding", scope), numEmbeddings, embeddingDim));
  table_ = scope.param("weight", {numEmbeddings, embeddingDim}, init::torchEmbedding(0), DType::F32,
                       loc);
}

Tensor Embedding::operator()(const Tensor &ids, SrcLoc loc) const {
  if (!ids.valid() || !isInteger(ids.dtype()))
    throwAt(loc, fmt::format("seq2seq::Embedding: ids must be integers, got {}",
                             ids.valid() ? ids.type().str() : "no tensor"));
  return gather(table_, ids, 0, loc);
}

} // namespace weft::seq2seq
