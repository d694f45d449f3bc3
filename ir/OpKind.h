//===- ir/OpKind.h - op kinds and their static properties -----------------===//
//
// Everything here is expanded from ir/Ops.def, the single op vocabulary.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace weft::ir {

enum class OpKind : uint8_t {
#define OP(Enum, Name, Category, Operands) Enum,
#include "ir/Ops.def"
};

enum class OpCategory : uint8_t { Unary, Binary, Compare, Logical, Structural, Reduce, Special };
/// Which dtypes an op's (data) operands may have.
enum class OperandDTypes : uint8_t { Float, Numeric, Bool, Any };

/// A run-time error an op can stop a run with on some inputs (verifier errors aside).
enum class OpFault : uint8_t {
  None,
  DivisionByZero,  // integer div by 0
  IndexOutOfRange, // gather / scatter_add index outside the axis
  EmptyReduce,     // reduce_max/min or argmax over an axis of size 0
};

/// The text name of an op kind ("add", "scan", ...).
std::string_view opName(OpKind k);
std::optional<OpKind> parseOpKind(std::string_view name);
OpCategory opCategory(OpKind k);
OperandDTypes opOperandDTypes(OpKind k);
/// The fault ops of kind `k` can raise (FAULT in Ops.def); ir::mayFault refines it per op.
OpFault opFault(OpKind k);
/// Every op kind, in Ops.def order.
std::span<const OpKind> allOpKinds();

/// Unary, binary, compare and logical ops: one output element per input element.
inline bool isElementwise(OpKind k) {
  OpCategory c = opCategory(k);
  return c == OpCategory::Unary || c == OpCategory::Binary || c == OpCategory::Compare ||
         c == OpCategory::Logical || k == OpKind::Select || k == OpKind::Cast;
}
/// Ops whose result type is written in the IR rather than inferred from operands.
bool hasDeclaredResultType(OpKind k);
/// yield and return.
inline bool isTerminator(OpKind k) { return k == OpKind::Yield || k == OpKind::Return; }
/// Ops with a body region (scan, while, fusion).
inline bool hasRegion(OpKind k) {
  return k == OpKind::Scan || k == OpKind::While || k == OpKind::Fusion;
}
/// Region ops whose body runs once per trip (scan, while); a fusion body runs once.
inline bool isLoop(OpKind k) { return k == OpKind::Scan || k == OpKind::While; }
/// Ops without side effects whose results depend only on operands and attributes, so that
/// identical ones may be merged and unused ones removed. (random_* is pure: it is a function
/// of its seed operand.) A pure op may still fault on some inputs (ir::mayFault).
inline bool isPure(OpKind k) { return !isTerminator(k); }

} // namespace weft::ir
