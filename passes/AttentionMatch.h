//===- passes/AttentionMatch.h - a decoder step's attention, matched --*- C++ -*-===//
//
// What fuse-additive-attention and fuse-lstm-attention share: the softmax over S and the
// context of an attention written out in primitives, matched from the context backwards over
// [B, S, D] values (passes/FuseAdditiveAttention.cpp has the forms), with the scores left to a
// callback (Bahdanau's or Luong's), and the loop checks around it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Module.h"
#include "ir/Uses.h"

#include <functional>
#include <vector>

namespace weft::passes::attention {

/// An attention's parts. The scores matcher fills qp, kp and v (Luong's: v is its scale g, or
/// nullptr for none).
struct Match {
  ir::Value *qp = nullptr, *kp = nullptr, *v = nullptr, *values = nullptr, *mask = nullptr;
  ir::Value *weights = nullptr; // p, whose users read the op's weights
  ir::Op *softmaxDiv = nullptr; // the new op goes before it
  std::vector<ir::Op *> chain;
};

/// Whether `s` [B,S] is the scores; fills the match's score operands and appends the ops to
/// its chain.
using ScoreMatcher = std::function<bool(ir::Value *s, Match &m)>;

/// The op of kind `k` that defines `v`, or nullptr.
ir::Op *defOf(ir::Value *v, ir::OpKind k);
/// The x whose broadcast along axis `along` of `v`'s shape `v` is (R(x)), or nullptr; x has
/// v's shape without that axis, or with a 1 there (then it needs a reshape). Appends the ops.
ir::Value *broadcastSource(ir::Value *v, int64_t along, std::vector<ir::Op *> &chain);
/// Both operands of a commutative op, in the order `first` then the other.
template <typename F> bool eitherOrder(ir::Op *op, F &&f) {
  return f(op->operand(0), op->operand(1)) || f(op->operand(1), op->operand(0));
}
/// Whether `final` makes the context c [B,D] of softmax(scores (+ mask)) over values: fills
/// the match, calling `scores` for the scores.
bool context(ir::Op &final, const ir::Uses &uses, Match &m, const ScoreMatcher &scores);

/// Whether `v` is defined inside `loop`'s body (a block argument of it included).
bool definedInside(const ir::Value *v, const ir::Op *loop);
/// The innermost scan or while whose body holds `op`, or nullptr.
const ir::Op *enclosingLoop(const ir::Op &op);
/// Whether `v` is available before `at`: defined in an enclosing block, or earlier in its own.
bool availableBefore(const ir::Value *v, const ir::Op &at);

} // namespace weft::passes::attention
