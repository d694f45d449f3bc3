//===- frontend/nn/attention/AttentionMechanism.cpp -----------------------===//
#include "frontend/nn/attention/AttentionMechanism.h"

#include "frontend/Ops.h"
#include "frontend/nn/LayerLabel.h"
#include "frontend/nn/attention/Masks.h"
#include "frontend/nn/attention/TileBatch.h"

namespace weft::nn {

AttentionMechanism::AttentionMechanism(const char *kind, const Scope &scope, const Tensor &memory,
                                       const Tensor &lengths, int64_t queryDepth, SrcLoc loc)
    : label_(layerLabel(kind, scope)), memory_(memory), queryDepth_(queryDepth) {
  requireInput(memory, label_, loc);
  requireInput(lengths, label_, loc);
  if (memory.rank() != 3 || !memory.shape()[2].isStatic() || !isFloat(memory.dtype()))
    throwAt(loc, fmt::format("{}: memory must be a float tensor [B, Tm, Dm] with a static Dm, "
                             "got {}",
                             label_, memory.type().str()));
  if (lengths.rank() != 1 || lengths.shape()[0] != memory.shape()[0])
    throwAt(loc, fmt::format("{}: lengths must be [B] for memory {}, got {}", label_,
                             memory.type().shapeStr(), lengths.type().str()));
  if (queryDepth <= 0)
    throwAt(loc, fmt::format("{}: the query depth must be positive, got {}", label_, queryDepth));
  mask_ = keyPaddingMask(lengths, memory.shape()[1], memory.dtype(), loc);
}

Alignment AttentionMechanism::operator()(const Tensor &query, SrcLoc loc) const {
  requireInput(query, label_, loc);
  if (query.rank() != 2 || query.shape()[1] != Dim(queryDepth_) || query.dtype() != memory_.dtype())
    throwAt(loc, fmt::format("{}: the query must be {} [B, {}], got {}", label_,
                             dtypeName(memory_.dtype()), queryDepth_, query.type().str()));
  Tensor alignments = softmax(add(score(query, loc), mask_, loc), -1, loc);
  Dim b = batch();
  Tensor rows = reshape(alignments, {b, Dim(1), memoryLength()}, loc);
  Tensor context = reshape(matmul(rows, memory_, loc), {b, Dim(memoryDepth())}, loc);
  return {alignments, context};
}

void AttentionMechanism::tileMemory(int64_t times, SrcLoc loc) {
  memory_ = tileBatch(memory_, times, loc);
  mask_ = tileBatch(mask_, times, loc);
}

} // namespace weft::nn
