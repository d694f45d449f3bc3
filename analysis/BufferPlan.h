//===- analysis/BufferPlan.h - which buffer holds each value, and when ----===//
//
// The one buffer plan of a function, at IR level, that every consumer reads:
// the CPU emitter (which pointer each value is), the JIT and AOT arenas (the
// slots, their types and live ranges), and the tools' memory reports.
//
// - A slot is one buffer: a parameter, an op result (at every nesting level
//   of scan/while bodies; values inside a fusion body live in registers), or
//   scratch a backend asks for per op (ScratchModel).
// - Positions and last uses come from Liveness. A slot lives from the first
//   position of the op that makes it (parameters from 0) to the last use of
//   every value it holds; scratch lives through its op.
// - In place: an elementwise op, or an element result of a fusion, writes
//   over an operand read only at the same flat index, when that operand is an
//   op result (not a loop's, not a parameter) that dies at this op, still
//   holds its slot, has the same byte size, and neither value is returned.
// - A declared in-place update (ir::OutputAlias: result i into parameter p)
//   makes p's slot the result's: the value is computed straight into it when
//   nothing reads p from that op on (or only that op, at the same element),
//   and copied into it at the end of the call otherwise (aliasCopies).
// - A scan's carries and a while's carries and `finished` flags live in the
//   loop's result slots (its body arguments share them); a scan's sequence
//   steps are views into the sequence and have no slot.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "analysis/Liveness.h"
#include "ir/Module.h"
#include "runtime/MemoryPlan.h"

#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace weft::analysis {

enum class SlotRole { Param, Value, Scratch };

struct BufferSlot {
  ir::Type type;
  LiveRange live;
  SlotRole role = SlotRole::Value;
  const ir::Value *first = nullptr; // the value that made it (null for scratch)
};

/// The scratch buffers a backend needs for `op`, in the order it asks for them.
using ScratchModel = std::function<std::vector<ir::Type>(const ir::Op &op)>;

class BufferPlan {
public:
  /// Plans `f`; `scratch` (optional) adds each op's scratch slots.
  explicit BufferPlan(const ir::Function &f, const ScratchModel &scratch = {});

  const std::vector<BufferSlot> &slots() const { return slots_; }
  /// The slot of parameter i, and of returned value i.
  const std::vector<int> &paramSlots() const { return paramSlots_; }
  const std::vector<int> &resultSlots() const { return resultSlots_; }
  /// The slot holding `v`, or -1 (a scan's sequence step, a value inside a fusion body).
  int slotOf(const ir::Value *v) const;
  /// The operand whose buffer `result` overwrites in place, or nullptr.
  const ir::Value *inPlaceOver(const ir::Value *result) const;
  /// The scratch slots of `op`, in the order the scratch model listed them.
  const std::vector<int> &scratchOf(const ir::Op &op) const;
  /// Whether slot `s` is the caller's (a parameter or a returned value): not in the arena.
  bool callerProvided(int s) const;
  /// Whether nothing reads `v` and it is not returned: a kernel with several results may leave
  /// such a result's buffer unwritten and skip the work that only it needs.
  bool unused(const ir::Value *v) const { return liveness_.lastUse(v) < 0 && !returned_.count(v); }
  /// Copies (from slot, to slot) to make after the function's body: declared in-place updates
  /// whose value could not be computed straight into the parameter's buffer.
  const std::vector<std::pair<int, int>> &aliasCopies() const { return aliasCopies_; }

private:
  void planBlock(const ir::Block &block);
  void planOp(const ir::Op &op);
  int newSlot(const ir::Type &t, const ir::Op *maker, SlotRole role, const ir::Value *v);
  void assign(const ir::Value *v, int slot);
  /// The operand `result` of `op` may overwrite, among `candidates`; nullptr if none.
  /// Whether `v`, returned into parameter `param`'s buffer, may be computed straight into it.
  /// `element`: `v` is written element by element, reading `sameIndex` operands only at the
  /// element it writes.
  bool writableInto(const ir::Value *v, const ir::Value *param, bool element,
                    const std::vector<const ir::Value *> &sameIndex) const;
  const ir::Value *reusable(const ir::Op &op, const ir::Value *result,
                            const std::vector<const ir::Value *> &candidates) const;

  Liveness liveness_;
  ScratchModel scratch_;
  std::vector<BufferSlot> slots_;
  std::vector<int> paramSlots_, resultSlots_;
  std::vector<bool> provided_;
  std::unordered_map<const ir::Value *, int> slotOf_;
  std::unordered_map<int, const ir::Value *> holder_; // the value a slot holds now
  std::unordered_map<const ir::Value *, const ir::Value *> inPlace_;
  std::unordered_map<const ir::Op *, std::vector<int>> scratchOf_;
  std::unordered_set<const ir::Value *> returned_;
  std::unordered_map<const ir::Value *, const ir::Value *> aliasParam_; // returned value -> param
  std::vector<std::pair<int, int>> aliasCopies_;
};

} // namespace weft::analysis
