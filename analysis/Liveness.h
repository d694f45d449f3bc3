//===- analysis/Liveness.h - program positions and last uses of values ----===//
//
// Numbers the ops of a function in pre-order: a scan or while
// covers [start, end], the positions of every op of its body; any other op
// (fusion included) is a leaf with one position, whose uses are its operands
// and whatever its regions read from outside them. The buffer plan
// (analysis/BufferPlan.h) turns these into a live range per buffer slot.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Module.h"
#include "runtime/MemoryPlan.h"

#include <unordered_map>

namespace weft::analysis {

class Liveness {
public:
  explicit Liveness(const ir::Function &f);

  /// The positions `op` covers; nullptr for an op that was not numbered (inside a region of an
  /// op other than scan and while).
  const LiveRange *span(const ir::Op &op) const;
  /// The last position at which `v` is read, or -1 when nothing reads it. A read inside a
  /// scan/while body (at any depth) of a value defined outside that loop counts at the loop's
  /// end: the value is read on every trip.
  int32_t lastUse(const ir::Value *v) const;
  /// One past the last position.
  int32_t end() const { return next_; }

private:
  void number(const ir::Block &block);
  void addUses(const ir::Op &user, const ir::Op &reader);

  int32_t next_ = 0;
  std::unordered_map<const ir::Op *, LiveRange> spans_;
  std::unordered_map<const ir::Value *, int32_t> lastUse_;
};

} // namespace weft::analysis
