//===- frontend/nn/attention/AttentionMechanism.h - attention over a memory -===//
//
// The attention of a decoder step over an encoder's memory (Bahdanau et al. 2015, Luong et al.
// 2015), as TensorFlow's AttentionMechanism: built once from
//   memory [B, Tm, Dm] (batch-major) and lengths [B] (i32 or i64, each >= 1),
// outside any decoder loop, so that work on the memory alone (the key projection, the mask)
// stays a loop invariant; then called once per step with the query [B, Dq] (the decoder cell's
// output):
//   scores     = score(query)                   [B, Tm]   (the subclass's formula)
//   alignments = softmax(scores + mask)         [B, Tm]   mask: 0 before lengths[b], else -inf
//   context    = alignments . memory            [B, Dm]
// so memory positions past a sequence's length get exactly zero weight.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/nn/Scope.h"

#include <memory>

namespace weft::nn {

struct Alignment {
  /// [B, Tm]; each row sums to 1 over the positions before its length, 0 after.
  Tensor alignments;
  /// [B, Dm].
  Tensor context;
};

class AttentionMechanism {
public:
  virtual ~AttentionMechanism() = default;

  /// One step; `query` is [B, queryDepth()].
  Alignment operator()(const Tensor &query, SrcLoc loc = SrcLoc::current()) const;

  const Tensor &memory() const { return memory_; }
  /// The additive mask [B, Tm] from the lengths.
  const Tensor &mask() const { return mask_; }
  Dim batch() const { return memory_.shape()[0]; }
  Dim memoryLength() const { return memory_.shape()[1]; }
  int64_t memoryDepth() const { return memory_.shape()[2].size(); }
  int64_t queryDepth() const { return queryDepth_; }

  /// The same mechanism (the same parameters) over every example's memory repeated `times`
  /// times, the copies adjacent (TileBatch.h): batch B*times, for beam search. What was computed
  /// from the memory alone (the key projection, the mask) is tiled, not computed again.
  virtual std::shared_ptr<const AttentionMechanism> tiled(int64_t times,
                                                          SrcLoc loc = SrcLoc::current()) const = 0;

protected:
  /// Checks memory and lengths (naming `kind` and the scope in errors) and builds the mask.
  AttentionMechanism(const char *kind, const Scope &scope, const Tensor &memory,
                     const Tensor &lengths, int64_t queryDepth, SrcLoc loc);
  /// The unnormalized scores [B, Tm] of a query [B, Dq].
  virtual Tensor score(const Tensor &query, SrcLoc loc) const = 0;
  /// Tiles the memory and the mask as tiled() says; a subclass's tiled() tiles its own tensors.
  void tileMemory(int64_t times, SrcLoc loc);

  std::string label_;

private:
  Tensor memory_, mask_;
  int64_t queryDepth_;
};

} // namespace weft::nn
