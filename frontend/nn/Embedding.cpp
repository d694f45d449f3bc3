//===- frontend/nn/Embedding.cpp ------------------------------------------===//
#include "frontend/nn/Embedding.h"

#include "frontend/Ops.h"
#include "frontend/nn/LayerLabel.h"

namespace weft::nn {

Tensor embedding(const Scope &s, const Tensor &idx, int64_t numEmbeddings, int64_t embeddingDim,
                 const EmbeddingOptions &options, SrcLoc loc) {
  std::string label = layerLabel("Embedding", s);
  requireInput(idx, label, loc);
  if (numEmbeddings <= 0 || embeddingDim <= 0)
    throwAt(loc, fmt::format("{}: num_embeddings and embedding_dim must be positive, got {} and {}",
                             label, numEmbeddings, embeddingDim));
  if (!isInteger(idx.dtype()))
    throwAt(loc, fmt::format("{}: indices must be integers, got {} {}", label,
                             dtypeName(idx.dtype()), idx.type().shapeStr()));
  std::optional<int64_t> pad = options.paddingIdx;
  if (pad) {
    if (*pad < -numEmbeddings || *pad >= numEmbeddings)
      throwAt(loc, fmt::format("{}: padding_idx {} is outside the table's {} rows", label, *pad,
                               numEmbeddings));
    if (*pad < 0)
      *pad += numEmbeddings;
  }
  Init init = options.init.value_or(init::torchEmbedding(pad.value_or(-1)));
  Tensor w = s.param("weight", {numEmbeddings, embeddingDim}, init, options.dtype, loc);
  Tensor y = gather(w, idx, 0, loc);
  if (!pad)
    return y;
  Shape column = idx.shape();
  column.push_back(1);
  Tensor isPad = reshape(eq(idx, full_like(idx, double(*pad), loc), loc), column, loc);
  return select(isPad, stop_gradient(y, loc), y, loc);
}

} // namespace weft::nn
